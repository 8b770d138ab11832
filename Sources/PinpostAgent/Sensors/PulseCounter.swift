public import GPIO

/// Counts pulses and turns them into per-interval figures (flow meters, anemometers, energy meters).
///
/// Pure: edges and sample times come in as monotonic instants, so the rate is exact in tests and
/// unaffected by wall-clock steps.
public struct PulseCounter: Sendable {
    /// One publishing period.
    public struct Sample: Sendable, Equatable {
        /// Pulses in this interval.
        public var pulses: UInt64
        /// Pulses since the agent started.
        public var total: UInt64
        /// Pulses per second over the interval.
        public var rate: Double

        public init(pulses: UInt64, total: UInt64, rate: Double) {
            self.pulses = pulses
            self.total = total
            self.rate = rate
        }
    }

    public private(set) var total: UInt64 = 0
    private var atLastSample: UInt64 = 0
    private var lastSample: MonotonicInstant

    public init(start: MonotonicInstant) {
        lastSample = start
    }

    public mutating func count() {
        total &+= 1
    }

    /// Closes the interval ending at `now`.
    public mutating func sample(at now: MonotonicInstant) -> Sample {
        let pulses = total &- atLastSample
        let elapsed =
            now.nanoseconds > lastSample.nanoseconds ? Double(now.nanoseconds - lastSample.nanoseconds) / 1e9 : 0
        atLastSample = total
        lastSample = now
        return Sample(pulses: pulses, total: total, rate: elapsed > 0 ? Double(pulses) / elapsed : 0)
    }
}
