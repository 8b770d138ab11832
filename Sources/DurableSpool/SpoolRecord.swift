/// One reading as the spool stores it: already encoded for the wire, so replay needs no re-encoding.
///
/// On disk: `magic u32 | body length u32 | CRC-32C of body u32 | body`, little endian;
/// body: `seq u64 | taken at (ms since epoch) i64 | qos u8 | topic length u16 | topic | payload length u32 | payload`.
/// The magic lets recovery find the next record after a damaged one.
public struct SpoolRecord: Sendable, Equatable {
    public var seq: UInt64
    public var takenAtMilliseconds: Int64
    /// The delivery guarantee asked for (0, 1, 2), carried opaquely: the spool does not interpret it.
    public var qos: UInt8
    public var topic: String
    public var payload: [UInt8]

    public init(seq: UInt64, takenAtMilliseconds: Int64, qos: UInt8, topic: String, payload: [UInt8]) {
        self.seq = seq
        self.takenAtMilliseconds = takenAtMilliseconds
        self.qos = qos
        self.topic = topic
        self.payload = payload
    }

    static let magic: UInt32 = 0x3153_5050  // "PPS1" little endian
    static let headerSize = 12
    /// Readings are small; anything claiming more is damage, not data.
    static let maximumBodySize = 1 << 20

    var encodedSize: Int { Self.headerSize + bodySize }
    private var bodySize: Int { 8 + 8 + 1 + 2 + topic.utf8.count + 4 + payload.count }

    func encode(into buffer: inout [UInt8]) {
        var body: [UInt8] = []
        body.reserveCapacity(bodySize)
        body.appendLittleEndian(seq)
        body.appendLittleEndian(UInt64(bitPattern: takenAtMilliseconds))
        body.append(qos)
        body.appendLittleEndian(UInt16(topic.utf8.count))
        body.append(contentsOf: topic.utf8)
        body.appendLittleEndian(UInt32(payload.count))
        body.append(contentsOf: payload)
        buffer.appendLittleEndian(Self.magic)
        buffer.appendLittleEndian(UInt32(body.count))
        buffer.appendLittleEndian(CRC32C.checksum(body))
        buffer.append(contentsOf: body)
    }

    enum DecodeResult: Equatable {
        case record(SpoolRecord, size: Int)
        /// Not enough bytes: a torn tail if nothing follows.
        case incomplete
        /// Bytes that are not a valid record at this position.
        case corrupt
    }

    /// Decodes the record at the start of `bytes`.
    static func decode(_ bytes: ArraySlice<UInt8>) -> DecodeResult {
        guard bytes.count >= headerSize else { return .incomplete }
        let start = bytes.startIndex
        guard bytes.loadLittleEndian(UInt32.self, at: start) == magic else { return .corrupt }
        let length = Int(bytes.loadLittleEndian(UInt32.self, at: start + 4))
        guard length >= 23, length <= maximumBodySize else { return .corrupt }
        guard bytes.count >= headerSize + length else { return .incomplete }
        let body = bytes[(start + headerSize)..<(start + headerSize + length)]
        guard CRC32C.checksum(body) == bytes.loadLittleEndian(UInt32.self, at: start + 8) else { return .corrupt }
        var cursor = body.startIndex
        let seq = body.loadLittleEndian(UInt64.self, at: cursor)
        cursor += 8
        let taken = Int64(bitPattern: body.loadLittleEndian(UInt64.self, at: cursor))
        cursor += 8
        let qos = body[cursor]
        cursor += 1
        let topicLength = Int(body.loadLittleEndian(UInt16.self, at: cursor))
        cursor += 2
        guard cursor + topicLength + 4 <= body.endIndex else { return .corrupt }
        let topic = String(decoding: body[cursor..<(cursor + topicLength)], as: UTF8.self)
        cursor += topicLength
        let payloadLength = Int(body.loadLittleEndian(UInt32.self, at: cursor))
        cursor += 4
        guard cursor + payloadLength == body.endIndex, qos <= 2 else { return .corrupt }
        let record = SpoolRecord(
            seq: seq,
            takenAtMilliseconds: taken,
            qos: qos,
            topic: topic,
            payload: Array(body[cursor...])
        )
        return .record(record, size: headerSize + length)
    }
}

extension Array where Element == UInt8 {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        var little = value.littleEndian
        Swift.withUnsafeBytes(of: &little) { append(contentsOf: $0) }
    }
}

extension ArraySlice where Element == UInt8 {
    func loadLittleEndian<T: FixedWidthInteger>(_: T.Type, at index: Int) -> T {
        var value: T = 0
        for offset in 0..<MemoryLayout<T>.size {
            value |= T(self[index + offset]) << (8 * offset)
        }
        return value
    }
}
