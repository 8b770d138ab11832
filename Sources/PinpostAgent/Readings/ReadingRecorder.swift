public import DurableSpool
public import Logging
public import MQTT
public import ReadingProof
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
    /// Signs (and encrypts) each reading as it is stored, when `[signing]` says so.
    private let sealer: ReadingSealer?
    private let logger: Logger?

    public init(
        spool: Spool,
        topics: Topics,
        wakeUp: AsyncStream<Void>.Continuation,
        sealer: ReadingSealer? = nil,
        logger: Logger? = nil
    ) {
        self.spool = spool
        self.topics = topics
        self.wakeUp = wakeUp
        self.sealer = sealer
        self.logger = logger
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
        let topic = topics.sensor(sensor)
        let encode = { @Sendable (seq: UInt64) in
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
        let outcome: SpoolAppendOutcome
        if let sealer {
            let failuresBefore = sealer.failures.count
            outcome = spool.append(qos: qos.rawValue, takenAtMilliseconds: takenAt.epochMilliseconds, topic: topic) {
                seq in
                sealer.seal(
                    topic: topic,
                    payload: encode(seq),
                    seq: seq,
                    takenAtMilliseconds: takenAt.epochMilliseconds
                )
            }
            let failures = sealer.failures
            if failures.count > failuresBefore, let failure = failures.last {
                logger?.error(
                    "reading stored without its signature or encryption; the next signed reading covers it through the chain",
                    metadata: ["sensor": "\(sensor)", "reason": "\(failure)", "failures": "\(failures.count)"]
                )
            }
        } else {
            outcome = spool.append(
                qos: qos.rawValue,
                takenAtMilliseconds: takenAt.epochMilliseconds,
                topic: topic,
                payload: encode
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
