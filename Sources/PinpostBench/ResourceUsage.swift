internal import Glibc
internal import PinpostAgent

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
        guard let file = fopen("/proc/self/status", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix("RssAnon:") {
                return Int(text.dropFirst(8).filter { $0.isNumber })
            }
        }
        return nil
    }

    public static func current() -> ResourceUsage {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1_000_000
        let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1_000_000
        return ResourceUsage(cpuSeconds: user + system, peakRSSKiB: Int(usage.ru_maxrss))
    }
}
