/// Which transitions of an input line produce events.
public enum EdgeDetection: String, Sendable, Hashable {
    case none
    case rising
    case falling
    case both
}

/// A transition of an input line.
public enum Edge: String, Sendable, Hashable {
    case rising
    case falling
}

/// A point on the kernel's monotonic clock (CLOCK_MONOTONIC), where libgpiod stamps edge events.
///
/// Monotonic, so debounce and ordering survive wall-clock steps; the agent maps it to wall time.
public struct MonotonicInstant: Sendable, Hashable, Comparable {
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) {
        self.nanoseconds = nanoseconds
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
}

/// An edge seen on an input line, with the logical value after it (active-low already applied).
public struct LineEvent: Sendable, Hashable {
    public var edge: Edge
    public var timestamp: MonotonicInstant

    public init(edge: Edge, timestamp: MonotonicInstant) {
        self.edge = edge
        self.timestamp = timestamp
    }

    /// The line's logical value after this edge.
    public var value: Bool { edge == .rising }
}
