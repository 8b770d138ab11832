internal import GPIO
internal import Logging
internal import SystemExtras
internal import Timestamps

/// How a sensor runner hands a value to the recorder (which assigns `seq`) — one closure, so the
/// runners stay testable without a broker.
struct SensorEmitter: Sendable {
    let sensor: AgentConfiguration.Sensor
    let logger: Logger
    let emit: @Sendable (Reading.Value, Edge?, UTCTime) throws -> Void

    func callAsFunction(_ value: Reading.Value, edge: Edge? = nil, at time: UTCTime = .now()) throws {
        try emit(value, edge, time)
    }
}

/// Sleeps in fixed steps from a start instant, so periodic readings do not drift.
struct Ticker {
    let interval: Duration
    private var next: ContinuousClock.Instant

    init(interval: Duration) {
        self.interval = interval
        self.next = ContinuousClock.now.advanced(by: interval)
    }

    /// Waits for the next tick; throws `CancellationError` when the task is cancelled.
    mutating func wait() async throws {
        try await Task.sleep(until: next, clock: .continuous)
        next = next.advanced(by: interval)
        let now = ContinuousClock.now
        if next < now { next = now.advanced(by: interval) }  // we fell behind: skip, don't burst
    }
}
