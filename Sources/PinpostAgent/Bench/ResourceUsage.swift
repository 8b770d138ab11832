internal import Glibc

/// The process's CPU time and peak resident set size from getrusage(RUSAGE_SELF), the same figures
/// `/usr/bin/time` reports for the peers, so the comparison measures everything alike.
public struct ResourceUsage: Sendable, Equatable {
    /// User plus system CPU seconds used by the whole process so far.
    public var cpuSeconds: Double
    /// Peak resident set size in KiB (ru_maxrss).
    public var peakRSSKiB: Int

    public static func current() -> ResourceUsage {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1_000_000
        let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1_000_000
        return ResourceUsage(cpuSeconds: user + system, peakRSSKiB: Int(usage.ru_maxrss))
    }
}
