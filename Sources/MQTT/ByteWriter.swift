/// Appends MQTT wire primitives (§1.5) to a byte array; length limits are checked, not truncated.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func writeUInt8(_ value: UInt8) { bytes.append(value) }

    mutating func writeUInt16(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    mutating func writeUInt32(_ value: UInt32) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 24))
        bytes.append(UInt8(truncatingIfNeeded: value >> 16))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    mutating func writeVariableByteInteger(_ value: Int) throws(MQTTCodecError) {
        guard value >= 0, value <= VariableByteInteger.maximum else {
            throw MQTTCodecError(.packetTooLarge, "value \(value) exceeds Variable Byte Integer range")
        }
        VariableByteInteger.append(value, to: &bytes)
    }

    mutating func writeBinary(_ value: [UInt8]) throws(MQTTCodecError) {
        guard value.count <= Int(UInt16.max) else {
            throw MQTTCodecError(.packetTooLarge, "binary data of \(value.count) bytes exceeds 65535")
        }
        writeUInt16(UInt16(value.count))
        bytes.append(contentsOf: value)
    }

    /// Straight from the string's UTF-8 storage: no intermediate array (this runs for every PUBLISH topic).
    mutating func writeString(_ value: String) throws(MQTTCodecError) {
        var value = value
        // Native strings are contiguous UTF-8 already (this makes any other one so): scanned and copied in place.
        let refusal: MQTTCodecError? = value.withUTF8 { utf8 in
            guard !utf8.contains(0) else {
                return MQTTCodecError(.invalidUTF8, "string contains U+0000")
            }
            guard utf8.count <= Int(UInt16.max) else {
                return MQTTCodecError(.packetTooLarge, "string of \(utf8.count) bytes exceeds 65535")
            }
            writeUInt16(UInt16(utf8.count))
            bytes.append(contentsOf: utf8)
            return nil
        }
        if let refusal { throw refusal }
    }

    mutating func writeBytes(_ value: [UInt8]) { bytes.append(contentsOf: value) }
}

/// MQTT Variable Byte Integer (§1.5.5): 7 bits per byte, at most 4 bytes.
enum VariableByteInteger {
    static let maximum = 268_435_455

    static func append(_ value: Int, to bytes: inout [UInt8]) {
        var remaining = value
        repeat {
            var byte = UInt8(remaining & 0x7F)
            remaining >>= 7
            if remaining > 0 { byte |= 0x80 }
            bytes.append(byte)
        } while remaining > 0
    }

    static func size(of value: Int) -> Int {
        switch value {
        case ..<128: 1
        case ..<16_384: 2
        case ..<2_097_152: 3
        default: 4
        }
    }
}
