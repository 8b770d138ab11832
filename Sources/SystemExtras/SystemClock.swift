internal import Glibc

/// The kernel's clocks (clock_gettime), as time since each clock's origin.
public enum SystemClock: Sendable {
    /// Wall-clock time since the Unix epoch: jumps when someone sets the clock.
    case realtime
    /// Time since boot, not counting suspend; never jumps (libgpiod stamps edges on it).
    case monotonic
    /// Time since boot, counting suspend; never jumps.
    case boottime

    /// The clock's reading now. These clocks always exist on Linux, so reading cannot fail.
    public func read() -> Duration {
        var spec = timespec()
        let status = clock_gettime(id, &spec)
        precondition(status == 0, "clock_gettime(\(self)) failed")
        return .seconds(Int64(spec.tv_sec)) + .nanoseconds(Int64(spec.tv_nsec))
    }

    /// The reading in whole nanoseconds (for clocks that never go below zero).
    public func nanoseconds() -> UInt64 {
        let (seconds, attoseconds) = read().components
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }

    private var id: clockid_t {
        switch self {
        case .realtime: CLOCK_REALTIME
        case .monotonic: CLOCK_MONOTONIC
        case .boottime: CLOCK_BOOTTIME
        }
    }
}
