import MQTT
import Testing

/// `PacketEncoder.encodedSize(of:version:scratch:)` stands in for a full encode when the session checks a PUBLISH
/// against the server's Maximum Packet Size; it must give exactly the encoded length and refuse exactly what
/// `encode` refuses.
@Suite("The size of a PUBLISH without encoding it")
struct EncodedSizeTests {
    static let propertyVariants: [PublishProperties] = [
        PublishProperties(),
        PublishProperties(
            payloadFormatIndicator: .utf8,
            messageExpiryInterval: 600,
            responseTopic: "devices/dev-0001/replies",
            correlationData: [1, 2, 3, 4],
            userProperties: [UserProperty("unit", "°C"), UserProperty("seq", "18446744073709551615")],
            contentType: "application/json"
        ),
    ]

    @Test(arguments: [0, 1, 64, 120, 121, 1_024, 16_300, 16_400, 2_097_000, 2_097_200])
    func equalsTheEncodedLength(payloadSize: Int) throws {
        var scratch: [UInt8] = []
        for version in [MQTTVersion.v3_1_1, .v5] {
            for properties in Self.propertyVariants {
                for qos in [QoS.atMostOnce, .atLeastOnce, .exactlyOnce] {
                    let publish = PublishPacket(
                        topic: "devices/dev-0001/sensors/tür",
                        payload: Array(repeating: 0x5A, count: payloadSize),
                        qos: qos,
                        retain: payloadSize % 2 == 0,
                        packetID: qos == .atMostOnce ? nil : 513,
                        properties: properties
                    )
                    let encoded = try PacketEncoder.encode(.publish(publish), version: version)
                    let size = try PacketEncoder.encodedSize(of: publish, version: version, scratch: &scratch)
                    #expect(size == encoded.count, "\(version) QoS \(qos.rawValue) \(payloadSize) B")
                }
            }
        }
    }

    @Test func refusesWhatEncodeRefuses() {
        var scratch: [UInt8] = [9]
        let refused: [PublishPacket] = [
            PublishPacket(topic: "a/+/b", payload: [1], qos: .atLeastOnce, packetID: 1),
            PublishPacket(topic: "a/#", payload: [1], qos: .atMostOnce),
            PublishPacket(topic: "", payload: [1], qos: .atMostOnce),
            PublishPacket(topic: "a/b", payload: [1], qos: .atLeastOnce, packetID: nil),
            PublishPacket(topic: "a/b", payload: [1], qos: .atLeastOnce, packetID: 0),
            PublishPacket(topic: "a/b", payload: [1], qos: .atMostOnce, packetID: 4),
            PublishPacket(topic: "a\u{0}b", payload: [1], qos: .atMostOnce),
        ]
        for publish in refused {
            for version in [MQTTVersion.v3_1_1, .v5] {
                var encodeCode: MQTTCodecError.Code?
                do { _ = try PacketEncoder.encode(.publish(publish), version: version) } catch {
                    encodeCode = error.code
                }
                var sizeCode: MQTTCodecError.Code?
                do { _ = try PacketEncoder.encodedSize(of: publish, version: version, scratch: &scratch) } catch {
                    sizeCode = error.code
                }
                #expect(encodeCode != nil, "\(publish.topic)")
                #expect(sizeCode == encodeCode, "\(publish.topic) \(version)")
            }
        }
    }
}
