public import GPIO
internal import SystemExtras
public import Timestamps

/// Maps a kernel CLOCK_MONOTONIC timestamp (edge events) to wall time.
///
/// Uses the current offset between the two clocks, so a reading's `ts` is when the edge happened,
/// not when the agent got round to it; a wall-clock step between the two shifts it by the step only.
public enum WallClockMapping {
    public static func wallTime(of timestamp: MonotonicInstant) -> UTCTime {
        let wall = UTCTime.now()
        let monotonic = MonotonicInstant.now()
        let ageMilliseconds =
            monotonic.nanoseconds >= timestamp.nanoseconds
            ? Int64((monotonic.nanoseconds - timestamp.nanoseconds) / 1_000_000) : 0
        return UTCTime(epochMilliseconds: wall.epochMilliseconds - ageMilliseconds)
    }
}

extension Duration {
    /// Nanoseconds, clamped at zero.
    var nanosecondsValue: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }
}
