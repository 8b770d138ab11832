public import Timestamps

extension UTCTime {
    /// Now, from the kernel's wall clock (CLOCK_REALTIME). Lives here, not in Timestamps, so that module stays
    /// pure (values and formatting, no system call) and this stays the one module that asks the kernel.
    public static func now() -> UTCTime {
        let (seconds, attoseconds) = SystemClock.realtime.read().components
        return UTCTime(epochMilliseconds: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}
