import MQTT
import Testing

/// `PacketEncoder.encode(_:version:into:)` writes the body in place and packs the fixed header
/// afterwards (so a reused buffer allocates nothing); these pin down that it appends exactly what
/// the fresh-array form produces, across every Remaining Length size, and leaves the buffer as it
/// was on error.
@Suite("Encoding into a reused buffer")
struct EncodeIntoBufferTests {
    @Test(arguments: [0, 1, 100, 120, 121, 122, 200, 16_300, 16_400, 2_097_000, 2_097_200])
    func appendsTheSameBytesAfterExistingContent(payloadSize: Int) throws {
        let packet = Packet.publish(
            PublishPacket(
                topic: "devices/dev-0001/sensors/door",
                payload: Array(repeating: 0x5A, count: payloadSize),
                qos: .atLeastOnce,
                packetID: 9
            )
        )
        for version in [MQTTVersion.v3_1_1, .v5] {
            let fresh = try PacketEncoder.encode(packet, version: version)
            var buffer: [UInt8] = [1, 2, 3]
            try PacketEncoder.encode(packet, version: version, into: &buffer)
            #expect(Array(buffer.prefix(3)) == [1, 2, 3])
            #expect(Array(buffer.dropFirst(3)) == fresh)
            #expect(try decodeOne(fresh, version: version, maximumPacketSize: 4 << 20) == packet)
        }
    }

    @Test func errorLeavesTheBufferUnchanged() {
        var buffer: [UInt8] = [7, 7]
        let bad = Packet.publish(PublishPacket(topic: "a/+/b", payload: [1], qos: .atLeastOnce, packetID: 1))
        #expect(throws: MQTTCodecError.self) { try PacketEncoder.encode(bad, version: .v5, into: &buffer) }
        #expect(buffer == [7, 7])
        let noID = Packet.publish(PublishPacket(topic: "a/b", payload: [1], qos: .atLeastOnce, packetID: nil))
        #expect(throws: MQTTCodecError.self) { try PacketEncoder.encode(noID, version: .v5, into: &buffer) }
        #expect(buffer == [7, 7])
    }

    @Test func consecutivePacketsDecodeInOrder() throws {
        var buffer: [UInt8] = []
        let packets: [Packet] = [
            .puback(AckPacket(packetID: 1)),
            .publish(PublishPacket(topic: "t", payload: Array(repeating: 1, count: 300), qos: .atMostOnce)),
            .pingreq,
            .puback(AckPacket(packetID: 2, reasonCode: .notAuthorized)),
        ]
        for packet in packets { try PacketEncoder.encode(packet, version: .v5, into: &buffer) }
        var decoder = PacketDecoder(version: .v5)
        decoder.append(buffer)
        var decoded: [Packet] = []
        while let packet = try decoder.next() { decoded.append(packet) }
        #expect(decoded == packets)
    }
}
