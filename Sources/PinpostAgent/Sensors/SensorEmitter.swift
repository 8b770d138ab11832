internal import DurableSpool
internal import GPIO
internal import Logging
internal import SystemExtras
internal import Timestamps

/// How a sensor runner hands a value to the recorder (which assigns `seq`) — one closure, so the
/// runners stay testable without a broker.
struct SensorEmitter: Sendable {
    let sensor: AgentConfiguration.Sensor
    let logger: Logger
    let emit: @Sendable (Reading.Value, Edge?, UTCTime) throws -> SpoolAppendOutcome
    /// Requests for a reading now (`read_sensor`), next to the runner's own edges and ticks.
    var readNow: AsyncStream<ReadNowRequest> = AsyncStream { $0.finish() }

    @discardableResult
    func callAsFunction(
        _ value: Reading.Value,
        edge: Edge? = nil,
        at time: UTCTime = .now()
    ) throws
        -> SpoolAppendOutcome
    {
        try emit(value, edge, time)
    }

    /// Takes the reading a request asked for: published like any other, and handed back with its seq.
    func answer(_ request: ReadNowRequest, with value: Reading.Value) {
        let time = UTCTime.now()
        do {
            let outcome = try emit(value, nil, time)
            request.respond(.success(ReadNowResult(value: value, takenAt: time, outcome: outcome)))
        } catch {
            request.respond(.failure(SensorReadFailure(description: "\(error)")))
        }
    }
}

/// The periodic ticks of a sensor merged with its read-now requests, for runners that otherwise only sleep.
enum SensorWake: Sendable {
    case tick
    case readNow(ReadNowRequest)

    /// Ticks every `interval` (without drift) and the emitter's requests, until the task is cancelled.
    static func stream(
        interval: Duration,
        readNow: AsyncStream<ReadNowRequest>
    ) -> (
        AsyncStream<SensorWake>, cancel: @Sendable () -> Void
    ) {
        let (stream, continuation) = AsyncStream<SensorWake>.makeStream()
        let ticker = Task {
            var ticker = Ticker(interval: interval)
            while (try? await ticker.wait()) != nil { continuation.yield(.tick) }
            continuation.finish()
        }
        let requests = Task {
            for await request in readNow { continuation.yield(.readNow(request)) }
        }
        return (
            stream,
            {
                ticker.cancel()
                requests.cancel()
            }
        )
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
