public import DurableSpool
public import MQTT
public import Timestamps

/// Turns an observation into a reading: the spool assigns the next `seq`, the payload is encoded
/// with it and appended durably, and only then is the publisher told there is something to send.
///
/// The spool's lock makes seq order, file order and hand-out order the same, even when several
/// sensors fire at once.
public final class ReadingRecorder: Sendable {
    private let spool: Spool
    private let topics: Topics
    private let wakeUp: AsyncStream<Void>.Continuation

    public init(spool: Spool, topics: Topics, wakeUp: AsyncStream<Void>.Continuation) {
        self.spool = spool
        self.topics = topics
        self.wakeUp = wakeUp
    }

    /// Stores the reading (or counts it as dropped when the spool is full) and wakes the publisher.
    @discardableResult
    public func record(
        sensor: String,
        value: Reading.Value,
        edge: String?,
        takenAt: UTCTime,
        clockSynchronized: Bool,
        qos: QoS
    ) -> SpoolAppendOutcome {
        let stream = spool.stream
        let outcome = spool.append(
            qos: qos.rawValue,
            takenAtMilliseconds: takenAt.epochMilliseconds,
            topic: topics.sensor(sensor)
        ) { seq in
            ReadingPayload.encode(
                Reading(
                    sensor: sensor,
                    value: value,
                    edge: edge,
                    takenAt: takenAt,
                    clockSynchronized: clockSynchronized,
                    stream: stream,
                    seq: seq,
                    qos: qos
                )
            )
        }
        if case .stored = outcome {
            wakeUp.yield()
        }
        return outcome
    }

    /// No more readings will come (sensors stopped).
    public func finish() {
        wakeUp.finish()
    }
}
