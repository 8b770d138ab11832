/// Why a wait for the clock ended.
public enum ClockWakeReason: Sendable, Equatable {
    /// Someone stepped the wall clock (settimeofday, NTP step): look again at once.
    case stepped
    /// timesyncd's flag file appeared.
    case flagFileAppeared
    case timedOut
}

/// Waits for something that may change the clock's state, with a monotonic notion of "now" that
/// a clock step cannot move. A protocol so tests can run the gate in virtual time.
public protocol ClockWaiter: Sendable {
    /// Monotonic time since an arbitrary origin (CLOCK_BOOTTIME for the real waiter).
    var now: Duration { get }
    /// Returns on a clock step, the flag file appearing, or after `limit`; promptly on cancellation.
    func wait(upTo limit: Duration) async -> ClockWakeReason
}
