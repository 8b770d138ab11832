/// Exponential back-off with full jitter: the n-th delay is uniform in [0, min(cap, base·2ⁿ)].
///
/// Full jitter spreads a fleet's reconnects after a broker restart instead of synchronizing them.
public struct Backoff: Sendable, Equatable {
    public var base: Duration
    public var cap: Duration
    public private(set) var attempt: Int = 0

    public init(base: Duration, cap: Duration) {
        self.base = base
        self.cap = cap
    }

    /// The upper bound of the next delay.
    public var currentCeiling: Duration {
        let exponent = min(attempt, 40)
        let scaled = base * (1 << exponent)
        return min(scaled, cap)
    }

    /// Returns the next delay and counts the attempt. `uniform` is in [0, 1).
    public mutating func nextDelay(uniform: Double) -> Duration {
        let ceiling = currentCeiling
        attempt += 1
        return ceiling * min(max(uniform, 0), 1)
    }

    public mutating func reset() {
        attempt = 0
    }
}
