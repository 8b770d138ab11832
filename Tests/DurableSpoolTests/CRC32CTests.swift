import Testing

@testable import DurableSpool

/// The spool's checksum must stay the standard CRC-32C: records written by earlier versions are read back with it.
@Suite("CRC-32C")
struct CRC32CTests {
    /// The bit-at-a-time definition (reflected polynomial 0x82F63B78), slow and obviously right.
    static func reference(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return crc ^ 0xFFFF_FFFF
    }

    @Test func knownVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)  // RFC 3720 B.4 check value
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)  // RFC 3720 B.4: 32 zeros
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)  // RFC 3720 B.4: 32 0xFF
        #expect(CRC32C.checksum(Array(0..<32)) == 0x46DD_794E)  // RFC 3720 B.4: 0x00 to 0x1F
        #expect(CRC32C.checksum([UInt8]()) == 0)
    }

    /// Every length around the eight-byte steps, at every alignment of the slice, equals the definition.
    @Test func everyLengthAndAlignmentMatchesTheDefinition() {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<300).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for start in 0..<8 {
            for length in 0...(bytes.count - start) where length < 40 || length % 37 == 0 {
                let slice = bytes[start..<(start + length)]
                let expected = Self.reference(Array(slice))
                #expect(CRC32C.checksum(slice) == expected, "start \(start) length \(length)")
                let software = slice.withUnsafeBytes { CRC32C.softwareChecksum($0) }
                #expect(software == expected, "software, start \(start) length \(length)")
            }
        }
    }

    /// The table path gives the RFC's check value too, whichever path `checksum` takes on this CPU.
    @Test func softwarePathKnownVector() {
        let check = Array("123456789".utf8).withUnsafeBytes { CRC32C.softwareChecksum($0) }
        #expect(check == 0xE306_9283)
    }
}
