internal import Glibc

/// CPU time and peak memory of this process so far (getrusage(RUSAGE_SELF)): the figures `/usr/bin/time` reports.
public struct ProcessUsage: Sendable, Equatable {
    public var userTime: Duration
    public var systemTime: Duration
    /// Peak resident set size, KiB (ru_maxrss).
    public var peakResidentKiB: Int

    public init(userTime: Duration, systemTime: Duration, peakResidentKiB: Int) {
        self.userTime = userTime
        self.systemTime = systemTime
        self.peakResidentKiB = peakResidentKiB
    }

    public static func current() -> ProcessUsage {
        var usage = rusage()
        // RUSAGE_SELF with a valid pointer cannot fail.
        _ = getrusage(RUSAGE_SELF.rawValue, &usage)
        return ProcessUsage(
            userTime: .seconds(Int64(usage.ru_utime.tv_sec)) + .microseconds(Int64(usage.ru_utime.tv_usec)),
            systemTime: .seconds(Int64(usage.ru_stime.tv_sec)) + .microseconds(Int64(usage.ru_stime.tv_usec)),
            peakResidentKiB: Int(usage.ru_maxrss)
        )
    }
}
