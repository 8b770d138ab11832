internal import SystemExtras

extension MonotonicInstant {
    /// Now, on CLOCK_MONOTONIC: the clock libgpiod uses for edge timestamps by default.
    public static func now() -> MonotonicInstant {
        MonotonicInstant(nanoseconds: SystemClock.monotonic.nanoseconds())
    }
}
