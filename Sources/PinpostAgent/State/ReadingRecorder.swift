internal import Synchronization
public import MQTT
public import Timestamps

/// Numbers readings and hands them to the publisher in one step, so stream order is `seq` order
/// even when several sensors fire at once.
public final class ReadingRecorder: Sendable {
    private struct State {
        var sequence: SequenceStore
        var continuation: AsyncStream<Reading>.Continuation
    }

    private let state: Mutex<State>

    public init(sequence: sending SequenceStore, continuation: AsyncStream<Reading>.Continuation) {
        self.state = Mutex(State(sequence: sequence, continuation: continuation))
    }

    /// Assigns the next durable `seq` and queues the reading for publishing.
    @discardableResult
    public func record(sensor: String, value: Reading.Value, edge: String?, takenAt: UTCTime, clockSynchronized: Bool, qos: QoS) throws(StateError) -> Reading {
        try state.withLock { state throws(StateError) in
            let seq = try state.sequence.next()
            let reading = Reading(sensor: sensor, value: value, edge: edge, takenAt: takenAt, clockSynchronized: clockSynchronized, seq: seq, qos: qos)
            state.continuation.yield(reading)
            return reading
        }
    }

    /// No more readings will come (sensors stopped).
    public func finish() {
        state.withLock { $0.continuation.finish() }
    }
}
