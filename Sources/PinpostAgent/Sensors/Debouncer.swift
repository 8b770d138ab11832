public import GPIO

/// Debounces a line by the kernel's monotonic edge timestamps, never by wall time or arrival time.
///
/// Two rules, chosen by the edges the sensor listens to:
/// - both edges (`settle`): a new value counts once the line has stayed there for `period`; every
///   edge restarts the wait. Bounces inside the window are dropped, but the value the line finally
///   rests at is always reported (with the timestamp of the edge that reached it) — unlike a
///   wall-clock "ignore edges for N ms after one" filter, which can swallow the real final state.
/// - one edge (`lockout`): an edge within `period` of the last accepted one is a bounce.
///
/// Pure: time comes in as event timestamps and `settle(now:)` calls, so tests need no clock.
public struct Debouncer: Sendable {
    /// A change accepted as real.
    public struct Change: Sendable, Equatable {
        public var value: Bool
        public var edge: Edge
        public var timestamp: MonotonicInstant

        public init(value: Bool, edge: Edge, timestamp: MonotonicInstant) {
            self.value = value
            self.edge = edge
            self.timestamp = timestamp
        }
    }

    public enum Rule: Sendable {
        case settle
        case lockout
    }

    public let period: Duration
    public let rule: Rule
    /// The last accepted value (the line's debounced state).
    public private(set) var stable: Bool
    private var pending: LineEvent?
    private var lastAccepted: MonotonicInstant?

    public init(initial: Bool, period: Duration, rule: Rule) {
        self.stable = initial
        self.period = period
        self.rule = rule
    }

    private var periodNanoseconds: UInt64 {
        let (seconds, attoseconds) = period.components
        return UInt64(max(seconds, 0)) * 1_000_000_000 + UInt64(max(attoseconds, 0) / 1_000_000_000)
    }

    /// When `settle(now:)` should be called next, if a change is waiting to settle.
    public var deadline: MonotonicInstant? {
        pending.map { MonotonicInstant(nanoseconds: $0.timestamp.nanoseconds + periodNanoseconds) }
    }

    /// Takes one kernel edge; returns the changes it makes certain (at most two: a pending one that
    /// had already settled before this edge, and, without debounce, this edge itself).
    public mutating func ingest(_ event: LineEvent) -> [Change] {
        let window = periodNanoseconds
        if window == 0 {
            // No debounce: every kernel edge is a reading.
            stable = event.value
            return [Change(value: event.value, edge: event.edge, timestamp: event.timestamp)]
        }
        switch rule {
        case .lockout:
            if let last = lastAccepted, event.timestamp.nanoseconds &- last.nanoseconds < window,
                event.timestamp >= last
            {
                return []
            }
            lastAccepted = event.timestamp
            stable = event.value
            return [Change(value: event.value, edge: event.edge, timestamp: event.timestamp)]
        case .settle:
            var changes: [Change] = []
            if let change = settle(now: event.timestamp) {
                changes.append(change)
            }
            pending = event
            return changes
        }
    }

    /// Accepts the waiting change if the line has rested for `period` by `now`.
    /// Returns nil if nothing settled, or if the line bounced back to the stable value.
    public mutating func settle(now: MonotonicInstant) -> Change? {
        guard let waiting = pending, let deadline, now >= deadline else { return nil }
        pending = nil
        guard waiting.value != stable else { return nil }
        stable = waiting.value
        return Change(value: waiting.value, edge: waiting.value ? .rising : .falling, timestamp: waiting.timestamp)
    }
}
