/// Bounds-checked reader over one packet's bytes; every read either succeeds or throws, it never traps.
/// The `what` descriptions are autoclosures: they are built only for an error message, so a
/// successful read (every PUBACK the client decodes) allocates no text.
struct ByteReader {
    private let bytes: [UInt8]
    private(set) var index: Int
    private(set) var end: Int

    init(_ bytes: [UInt8], start: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.index = start
        self.end = end ?? bytes.count
    }

    var remaining: Int { end - index }
    var isAtEnd: Bool { index >= end }

    private func need(_ count: Int, _ what: @autoclosure () -> String) throws(MQTTCodecError) {
        guard count >= 0, remaining >= count else {
            throw MQTTCodecError(.malformedPacket, "truncated \(what()): need \(count) bytes, have \(remaining)")
        }
    }

    mutating func readUInt8(_ what: @autoclosure () -> String = "byte") throws(MQTTCodecError) -> UInt8 {
        try need(1, what())
        defer { index += 1 }
        return bytes[index]
    }

    mutating func readUInt16(_ what: @autoclosure () -> String = "two byte integer") throws(MQTTCodecError) -> UInt16 {
        try need(2, what())
        defer { index += 2 }
        return UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1])
    }

    mutating func readUInt32(_ what: @autoclosure () -> String = "four byte integer") throws(MQTTCodecError) -> UInt32 {
        try need(4, what())
        defer { index += 4 }
        return UInt32(bytes[index]) << 24 | UInt32(bytes[index + 1]) << 16
            | UInt32(bytes[index + 2]) << 8 | UInt32(bytes[index + 3])
    }

    /// Reads a minimally encoded Variable Byte Integer of at most 4 bytes [MQTT-1.5.5-1].
    mutating func readVariableByteInteger(
        _ what: @autoclosure () -> String = "variable byte integer"
    ) throws(MQTTCodecError) -> Int {
        var value = 0
        var multiplier = 1
        for position in 0..<4 {
            let byte = try readUInt8(what())
            value += Int(byte & 0x7F) * multiplier
            if byte & 0x80 == 0 {
                if position > 0 && byte == 0 {
                    throw MQTTCodecError(.malformedRemainingLength, "\(what()) is not minimally encoded")
                }
                return value
            }
            multiplier *= 128
        }
        throw MQTTCodecError(.malformedRemainingLength, "\(what()) longer than 4 bytes")
    }

    mutating func readBytes(_ count: Int, _ what: @autoclosure () -> String = "bytes") throws(MQTTCodecError) -> [UInt8]
    {
        try need(count, what())
        defer { index += count }
        return Array(bytes[index..<index + count])
    }

    mutating func readRest() -> [UInt8] {
        defer { index = end }
        return Array(bytes[index..<end])
    }

    mutating func readBinary(_ what: @autoclosure () -> String = "binary data") throws(MQTTCodecError) -> [UInt8] {
        let length = try readUInt16("\(what()) length")
        return try readBytes(Int(length), what())
    }

    /// Reads a UTF-8 Encoded String, rejecting ill-formed UTF-8 and U+0000 [MQTT-1.5.4-1], [MQTT-1.5.4-2].
    mutating func readString(_ what: @autoclosure () -> String = "string") throws(MQTTCodecError) -> String {
        let raw = try readBinary(what())
        return try Self.decodeUTF8(raw, what())
    }

    static func decodeUTF8(_ raw: [UInt8], _ what: @autoclosure () -> String) throws(MQTTCodecError) -> String {
        guard !raw.contains(0) else {
            throw MQTTCodecError(.invalidUTF8, "\(what()) contains U+0000")
        }
        guard let string = String(validating: raw, as: UTF8.self) else {
            throw MQTTCodecError(.invalidUTF8, "\(what()) is not well-formed UTF-8")
        }
        return string
    }

    /// Narrows the reader to the next `length` bytes (e.g. a property block) and returns a reader for them.
    mutating func subReader(length: Int, _ what: @autoclosure () -> String) throws(MQTTCodecError) -> ByteReader {
        try need(length, what())
        let sub = ByteReader(bytes, start: index, end: index + length)
        index += length
        return sub
    }
}
