internal import PinpostAgent
internal import SystemExtras

/// The process's CPU time and peak resident set size from getrusage(RUSAGE_SELF), the same figures
/// `/usr/bin/time` reports for the peers, so the comparison measures everything alike.
public struct ResourceUsage: Sendable, Equatable {
    /// User plus system CPU seconds used by the whole process so far.
    public var cpuSeconds: Double
    /// Peak resident set size in KiB (ru_maxrss).
    public var peakRSSKiB: Int

    /// Anonymous (private, not file-backed) resident memory now, from /proc/self/status `RssAnon`, KiB:
    /// the part of RSS the process itself allocated, as opposed to mapped pages of the binary and libraries.
    public static func anonymousRSSKiB() -> Int? {
        guard let status = try? FileSystem.readFile("/proc/self/status", limit: 1 << 20) else { return nil }
        let line = String(decoding: status, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("RssAnon:") }
        return line.flatMap { Int($0.dropFirst(8).filter { $0.isNumber }) }
    }

    public static func current() -> ResourceUsage {
        let usage = ProcessUsage.current()
        return ResourceUsage(cpuSeconds: seconds(usage.userTime + usage.systemTime), peakRSSKiB: usage.peakResidentKiB)
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
}
