internal import DurableSpool
internal import Synchronization
internal import Timestamps

/// A request to take a reading now (the `read_sensor` command); the runner answers through `respond`.
struct ReadNowRequest: Sendable {
    let respond: @Sendable (Result<ReadNowResult, SensorReadFailure>) -> Void
}

/// The reading a runner took on request: published like any other, with its seq.
struct ReadNowResult: Sendable {
    var value: Reading.Value
    var takenAt: UTCTime
    var outcome: SpoolAppendOutcome
}

/// Why a reading could not be taken on request.
struct SensorReadFailure: Error, Sendable, CustomStringConvertible {
    var description: String
}

/// The door through which a command asks a running sensor for a reading now: each runner listens on its own
/// stream of requests, next to its edges and ticks.
public final class SensorTriggers: Sendable {
    private let channels = Mutex<[String: AsyncStream<ReadNowRequest>.Continuation]>([:])

    public init() {}

    /// The requests for `sensor`; a runner takes this once, when it starts.
    func requests(for sensor: String) -> AsyncStream<ReadNowRequest> {
        let (stream, continuation) = AsyncStream<ReadNowRequest>.makeStream(bufferingPolicy: .bufferingNewest(8))
        channels.withLock { $0[sensor] = continuation }
        return stream
    }

    /// Asks the runner of `sensor` for a reading and waits for it, at most `timeout` (a stuck read is not waited
    /// for longer). Nil when no runner serves that sensor.
    func read(_ sensor: String, timeout: Duration = .seconds(5)) async -> Result<ReadNowResult, SensorReadFailure>? {
        guard let channel = channels.withLock({ $0[sensor] }) else { return nil }
        return await withCheckedContinuation { continuation in
            let pending = PendingRead(continuation)
            pending.timer = Task {
                guard (try? await Task.sleep(for: timeout)) != nil else { return }
                pending.finish(.failure(SensorReadFailure(description: "no reading within \(timeout)")))
            }
            if case .terminated = channel.yield(ReadNowRequest(respond: pending.finish)) {
                pending.finish(.failure(SensorReadFailure(description: "the sensor is not running")))
            }
        }
    }

    /// The sensors stopped: later requests fail at once.
    func finish() {
        let all = channels.withLock { channels in
            defer { channels.removeAll() }
            return Array(channels.values)
        }
        for channel in all { channel.finish() }
    }
}

/// One read-now request in flight: answered once, by the runner or by the time-out, whichever comes first.
private final class PendingRead: Sendable {
    private let state:
        Mutex<(CheckedContinuation<Result<ReadNowResult, SensorReadFailure>, Never>?, Task<Void, Never>?)>

    init(_ continuation: CheckedContinuation<Result<ReadNowResult, SensorReadFailure>, Never>) {
        state = Mutex((continuation, nil))
    }

    var timer: Task<Void, Never>? {
        get { state.withLock { $0.1 } }
        set { state.withLock { $0.1 = newValue } }
    }

    @Sendable func finish(_ result: Result<ReadNowResult, SensorReadFailure>) {
        let (continuation, timer) = state.withLock { state in
            defer { state = (nil, nil) }
            return state
        }
        timer?.cancel()
        continuation?.resume(returning: result)
    }
}
