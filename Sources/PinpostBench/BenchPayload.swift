internal import DurableSpool
internal import PinpostAgent
internal import ReadingProof

/// The synthetic reading `pinpost bench` publishes: exactly `size` bytes of JSON carrying the seq and
/// the time it was taken, padded, so Pinpost sends the same payload size as the peers it is compared
/// with (`mosquitto_pub`, Paho), which publish opaque payloads of a given length.
///
/// `{"seq":42,"ts":1763860923456,"pad":"xxxx…"}`: `ts` is Unix milliseconds, so a subscriber can
/// compute the delivery delay itself. A real reading (`ReadingPayload`) is 70 to 90 bytes.
public enum BenchPayload {
    /// The smallest `size` the bench accepts: room for a 9-digit seq and a 13-digit time with no padding.
    public static let minimumSize = 48
    /// The largest `size` the bench accepts (the spool takes records up to 1 MiB).
    public static let maximumSize = 256 << 10

    static func make(seq: UInt64, takenAtMilliseconds: Int64, size: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(size)
        bytes.append(contentsOf: #"{"seq":"#.utf8)
        bytes.append(contentsOf: String(seq).utf8)
        bytes.append(contentsOf: #","ts":"#.utf8)
        bytes.append(contentsOf: String(takenAtMilliseconds).utf8)
        bytes.append(contentsOf: #","pad":""#.utf8)
        let padding = size - bytes.count - 2
        if padding > 0 {
            // An Array, not `repeatElement`: appending the generic `Repeated` went byte by byte, 5 % of the
            // bench's CPU at 1 KiB; the bench's own work must not weigh on the agent's figures.
            bytes.append(contentsOf: [UInt8](repeating: UInt8(ascii: "x"), count: padding))
        }
        bytes.append(contentsOf: #""}"#.utf8)
        return bytes
    }

    /// Appends one synthetic reading as the agent's recorder would: signed (and encrypted) by `sealer` when given.
    static func append(
        to spool: Spool,
        qos: UInt8,
        takenAt: Int64,
        topic: String,
        size: Int,
        sealer: ReadingSealer?
    ) -> SpoolAppendOutcome {
        guard let sealer else {
            return spool.append(qos: qos, takenAtMilliseconds: takenAt, topic: topic) { seq in
                make(seq: seq, takenAtMilliseconds: takenAt, size: size)
            }
        }
        return spool.append(qos: qos, takenAtMilliseconds: takenAt, topic: topic) { seq in
            sealer.seal(
                topic: topic,
                payload: make(seq: seq, takenAtMilliseconds: takenAt, size: size),
                seq: seq,
                takenAtMilliseconds: takenAt
            )
        }
    }
}
