/// One reading as the spool stores it: already encoded for the wire, so replay needs no re-encoding.
///
/// On disk: `magic u32 | body length u32 | CRC-32C of body u32 | body`, little endian;
/// body: `seq u64 | taken at (ms since epoch) i64 | qos u8 | topic length u16 | topic | payload length u32 | payload`.
/// A record with attributes or a note has magic "PPS2" and its body goes on with
/// `attribute count u8 | (name length u8 | name | value length u16 | value)* | note length u16 | note`;
/// records without them keep "PPS1", so a spool written without them reads as before, both ways.
/// The magic lets recovery find the next record after a damaged one.
public struct SpoolRecord: Sendable, Equatable {
    public var seq: UInt64
    public var takenAtMilliseconds: Int64
    /// The delivery guarantee asked for (0, 1, 2), carried opaquely: the spool does not interpret it.
    public var qos: UInt8
    public var topic: String
    public var payload: [UInt8]
    /// Name/value pairs sent beside the payload (the publisher sends them as MQTT 5 user properties, e.g. a
    /// detached signature), carried opaquely.
    public var attributes: [SpoolAttribute]
    /// Bytes kept with the record and never sent: the appender's own bookkeeping (the signing chain's link),
    /// readable again at the next start from `Spool.newestRecordAtOpen`.
    public var note: [UInt8]

    public init(
        seq: UInt64,
        takenAtMilliseconds: Int64,
        qos: UInt8,
        topic: String,
        payload: [UInt8],
        attributes: [SpoolAttribute] = [],
        note: [UInt8] = []
    ) {
        self.seq = seq
        self.takenAtMilliseconds = takenAtMilliseconds
        self.qos = qos
        self.topic = topic
        self.payload = payload
        self.attributes = attributes
        self.note = note
    }

    static let magic: UInt32 = 0x3153_5050  // "PPS1" little endian
    static let magicWithExtras: UInt32 = 0x3253_5050  // "PPS2" little endian
    static let headerSize = 12
    /// Readings are small; anything claiming more is damage, not data.
    static let maximumBodySize = 1 << 20
    /// Limits of the extras' length fields (longer ones are refused at append).
    static let maximumAttributes = 255
    static let maximumAttributeNameBytes = 255
    static let maximumAttributeValueBytes = 65_535
    static let maximumNoteBytes = 65_535

    private var hasExtras: Bool { !attributes.isEmpty || !note.isEmpty }

    var encodedSize: Int { Self.headerSize + bodySize }
    private var bodySize: Int {
        var size = 8 + 8 + 1 + 2 + topic.utf8.count + 4 + payload.count
        if hasExtras {
            size += 1 + 2 + note.count
            for attribute in attributes { size += 1 + attribute.name.utf8.count + 2 + attribute.value.utf8.count }
        }
        return size
    }

    /// Whether the extras fit their length fields.
    var extrasFit: Bool {
        attributes.count <= Self.maximumAttributes && note.count <= Self.maximumNoteBytes
            && attributes.allSatisfy {
                $0.name.utf8.count <= Self.maximumAttributeNameBytes
                    && $0.value.utf8.count <= Self.maximumAttributeValueBytes
            }
    }

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
        if hasExtras {
            body.append(UInt8(attributes.count))
            for attribute in attributes {
                body.append(UInt8(attribute.name.utf8.count))
                body.append(contentsOf: attribute.name.utf8)
                body.appendLittleEndian(UInt16(attribute.value.utf8.count))
                body.append(contentsOf: attribute.value.utf8)
            }
            body.appendLittleEndian(UInt16(note.count))
            body.append(contentsOf: note)
        }
        buffer.appendLittleEndian(hasExtras ? Self.magicWithExtras : Self.magic)
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
        let recordMagic = bytes.loadLittleEndian(UInt32.self, at: start)
        guard recordMagic == magic || recordMagic == magicWithExtras else { return .corrupt }
        let withExtras = recordMagic == magicWithExtras
        let length = Int(bytes.loadLittleEndian(UInt32.self, at: start + 4))
        guard length >= (withExtras ? 26 : 23), length <= maximumBodySize else { return .corrupt }
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
        guard qos <= 2 else { return .corrupt }
        guard withExtras else {
            guard cursor + payloadLength == body.endIndex else { return .corrupt }
            let record = SpoolRecord(
                seq: seq,
                takenAtMilliseconds: taken,
                qos: qos,
                topic: topic,
                payload: Array(body[cursor...])
            )
            return .record(record, size: headerSize + length)
        }
        guard cursor + payloadLength + 3 <= body.endIndex else { return .corrupt }
        let payload = Array(body[cursor..<(cursor + payloadLength)])
        cursor += payloadLength
        let attributeCount = Int(body[cursor])
        cursor += 1
        var attributes: [SpoolAttribute] = []
        attributes.reserveCapacity(attributeCount)
        for _ in 0..<attributeCount {
            guard cursor + 1 <= body.endIndex else { return .corrupt }
            let nameLength = Int(body[cursor])
            cursor += 1
            guard cursor + nameLength + 2 <= body.endIndex else { return .corrupt }
            let name = String(decoding: body[cursor..<(cursor + nameLength)], as: UTF8.self)
            cursor += nameLength
            let valueLength = Int(body.loadLittleEndian(UInt16.self, at: cursor))
            cursor += 2
            guard cursor + valueLength <= body.endIndex else { return .corrupt }
            let value = String(decoding: body[cursor..<(cursor + valueLength)], as: UTF8.self)
            cursor += valueLength
            attributes.append(SpoolAttribute(name: name, value: value))
        }
        guard cursor + 2 <= body.endIndex else { return .corrupt }
        let noteLength = Int(body.loadLittleEndian(UInt16.self, at: cursor))
        cursor += 2
        guard cursor + noteLength == body.endIndex else { return .corrupt }
        let record = SpoolRecord(
            seq: seq,
            takenAtMilliseconds: taken,
            qos: qos,
            topic: topic,
            payload: payload,
            attributes: attributes,
            note: Array(body[cursor...])
        )
        return .record(record, size: headerSize + length)
    }
}

/// A name/value pair carried with a record and sent beside its payload.
public struct SpoolAttribute: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// What an appender stores for a reading once its seq is known: the payload, and optionally attributes sent
/// with it and a note kept with it.
public struct SpoolContent: Sendable, Equatable {
    public var payload: [UInt8]
    public var attributes: [SpoolAttribute]
    public var note: [UInt8]

    public init(payload: [UInt8], attributes: [SpoolAttribute] = [], note: [UInt8] = []) {
        self.payload = payload
        self.attributes = attributes
        self.note = note
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
