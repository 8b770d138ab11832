import MQTT
import Testing

@Suite("Decoder rejects malformed input")
struct DecoderMalformedTests {
    @Test("remaining length longer than 4 bytes [MQTT-1.5.5-1]", arguments: [MQTTVersion.v3_1_1, .v5])
    func fiveByteRemainingLength(version: MQTTVersion) {
        // The error is raised as soon as the 4th length byte still has the continuation bit.
        #expect(decodeError([0x30, 0xFF, 0xFF, 0xFF, 0xFF], version: version)?.code == .malformedRemainingLength)
        #expect(decodeError([0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], version: version)?.code == .malformedRemainingLength)
    }

    @Test("non-minimal remaining length [MQTT-1.5.5-1]")
    func nonMinimalRemainingLength() {
        #expect(decodeError([0xC0, 0x80, 0x00], version: .v5)?.code == .malformedRemainingLength)
    }

    @Test("oversized packet is rejected from its header, before the body arrives")
    func oversized() {
        var decoder = PacketDecoder(version: .v5, maximumPacketSize: 100)
        decoder.append([0x30, 0xE8, 0x07])  // remaining length 1000, no body yet
        #expect(throws: MQTTCodecError.self) { try decoder.next() }
        do {
            _ = try decoder.next()
            Issue.record("decoder must stay failed")
        } catch {
            #expect(error.code == .packetTooLarge)
        }
    }

    @Test("invalid UTF-8 and U+0000 in strings [MQTT-1.5.4-1] [MQTT-1.5.4-2]")
    func invalidUTF8() {
        #expect(decodeError([0x30, 0x04, 0x00, 0x02, 0xC3, 0x28], version: .v3_1_1)?.code == .invalidUTF8)
        #expect(decodeError([0x30, 0x04, 0x00, 0x02, 0x61, 0x00], version: .v3_1_1)?.code == .invalidUTF8)
        // Encoded surrogate U+D800 is ill-formed UTF-8.
        #expect(decodeError([0x30, 0x05, 0x00, 0x03, 0xED, 0xA0, 0x80], version: .v5)?.code == .invalidUTF8)
        // Invalid UTF-8 in a user property value.
        #expect(
            decodeError(
                [0x40, 0x0B, 0x00, 0x01, 0x00, 0x07, 0x26, 0x00, 0x01, 0x61, 0x00, 0x01, 0xFF],
                version: .v5
            )?.code == .invalidUTF8
        )
    }

    @Test(
        "reserved fixed-header flags [MQTT-2.1.3-1] [MQTT-3.6.1-1] [MQTT-3.14.1-1]",
        arguments: [
            [UInt8]([0x60, 0x02, 0x00, 0x01]),  // PUBREL without 0b0010
            [0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x00],  // SUBSCRIBE without 0b0010
            [0xA0, 0x05, 0x00, 0x01, 0x00, 0x01, 0x61],  // UNSUBSCRIBE without 0b0010
            [0x21, 0x02, 0x00, 0x00],  // CONNACK
            [0x42, 0x02, 0x00, 0x01],  // PUBACK
            [0xC1, 0x00],  // PINGREQ
            [0xE8, 0x00],  // DISCONNECT
        ]
    )
    func reservedFlags(input: [UInt8]) {
        #expect(decodeError(input, version: .v3_1_1)?.code == .reservedFlags)
    }

    @Test("wildcards in a PUBLISH topic name [MQTT-3.3.2-2]", arguments: ["a/+", "#", "a/#/b", "+"])
    func wildcardTopic(topic: String) {
        let name = bytes(topic)
        let input: [UInt8] = [0x30, UInt8(2 + name.count), 0x00, UInt8(name.count)] + name
        #expect(decodeError(input, version: .v3_1_1)?.code == .invalidTopic)
        #expect(throws: MQTTCodecError.self) {
            try PacketEncoder.encode(.publish(PublishPacket(topic: topic, payload: [], qos: .atMostOnce)), version: .v5)
        }
    }

    @Test("empty topic name without a Topic Alias [MQTT-4.7.3-1]")
    func emptyTopic() {
        #expect(decodeError([0x30, 0x02, 0x00, 0x00], version: .v3_1_1)?.code == .invalidTopic)
        #expect(decodeError([0x30, 0x03, 0x00, 0x00, 0x00], version: .v5)?.code == .invalidTopic)
    }

    @Test("truncated and overlong properties")
    func truncatedProperties() {
        // PUBACK: property length 5 but no property bytes.
        #expect(decodeError([0x40, 0x04, 0x00, 0x01, 0x00, 0x05], version: .v5)?.code == .malformedPacket)
        // CONNACK: Receive Maximum cut after one byte.
        #expect(decodeError([0x20, 0x05, 0x00, 0x00, 0x02, 0x21, 0x00], version: .v5)?.code == .malformedPacket)
        // PUBLISH: string length larger than the packet.
        #expect(decodeError([0x30, 0x03, 0x00, 0x09, 0x61], version: .v3_1_1)?.code == .malformedPacket)
    }

    @Test("QoS 3 [MQTT-3.3.1-4]")
    func qos3() {
        #expect(decodeError([0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01], version: .v3_1_1)?.code == .invalidQoS)
        // Will QoS 3 in CONNECT flags [MQTT-3.1.2-14].
        let connect: [UInt8] = [0x10, 0x0C, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x04, 0x1C, 0x00, 0x00, 0x00, 0x00]
        #expect(decodeError(connect, version: .v3_1_1)?.code == .invalidQoS)
    }

    @Test("packet identifier 0 on QoS > 0 PUBLISH and on acks [MQTT-2.2.1-3]")
    func zeroPacketID() {
        #expect(
            decodeError([0x32, 0x05, 0x00, 0x01, 0x61, 0x00, 0x00], version: .v5)?.code == .invalidPacketIdentifier
        )
        #expect(decodeError([0x40, 0x02, 0x00, 0x00], version: .v3_1_1)?.code == .invalidPacketIdentifier)
        #expect(throws: MQTTCodecError.self) {
            try PacketEncoder.encode(.publish(PublishPacket(topic: "a", payload: [], qos: .atLeastOnce)), version: .v5)
        }
    }

    @Test("DUP on QoS 0 [MQTT-3.3.1-2]")
    func dupOnQoS0() {
        #expect(decodeError([0x38, 0x03, 0x00, 0x01, 0x61], version: .v3_1_1)?.code == .protocolViolation)
    }

    @Test("duplicate and disallowed properties are protocol errors")
    func badProperties() {
        // CONNACK with Receive Maximum twice.
        #expect(
            decodeError([0x20, 0x09, 0x00, 0x00, 0x06, 0x21, 0x00, 0x0A, 0x21, 0x00, 0x0B], version: .v5)?.code
                == .invalidProperty
        )
        // PUBACK with Session Expiry Interval (CONNECT/CONNACK/DISCONNECT only).
        #expect(
            decodeError([0x40, 0x09, 0x00, 0x01, 0x00, 0x05, 0x11, 0x00, 0x00, 0x00, 0x01], version: .v5)?.code
                == .invalidProperty
        )
        // Unknown property identifier 0x7F.
        #expect(decodeError([0x40, 0x06, 0x00, 0x01, 0x00, 0x02, 0x7F, 0x00], version: .v5)?.code == .invalidProperty)
        // Receive Maximum 0 and Maximum QoS 2 are protocol errors.
        #expect(decodeError([0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x00], version: .v5)?.code == .invalidProperty)
        #expect(decodeError([0x20, 0x05, 0x00, 0x00, 0x02, 0x24, 0x02], version: .v5)?.code == .invalidProperty)
        // User properties may repeat.
        #expect(
            decodeError(
                [
                    0x40, 0x14, 0x00, 0x01, 0x00, 0x10,
                    0x26, 0x00, 0x01, 0x61, 0x00, 0x01, 0x62, 0x26, 0x00, 0x01, 0x61, 0x00, 0x01, 0x63,
                ],
                version: .v5
            ) == nil
        )
    }

    @Test("unknown packet types: 0 always, 15 (AUTH) in v3.1.1")
    func unknownTypes() {
        #expect(decodeError([0x00, 0x00], version: .v5)?.code == .unknownPacketType)
        #expect(decodeError([0xF0, 0x00], version: .v3_1_1)?.code == .unknownPacketType)
        #expect(decodeError([0xF0, 0x00], version: .v5) == nil)
    }

    @Test("trailing bytes and CONNECT reserved flag [MQTT-3.1.2-3]")
    func trailingAndConnectFlags() {
        #expect(decodeError([0xD0, 0x01, 0x00], version: .v3_1_1)?.code == .malformedPacket)
        #expect(decodeError([0x40, 0x03, 0x00, 0x01, 0x00], version: .v3_1_1)?.code == .malformedPacket)
        let connect: [UInt8] = [0x10, 0x0C, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00]
        #expect(decodeError(connect, version: .v3_1_1)?.code == .reservedFlags)
    }

    @Test("random and mutated input never crashes the decoder")
    func fuzz() throws {
        var rng = SplitMix64(seed: 0xC0FFEE)
        var seeds: [[UInt8]] = []
        for version in [MQTTVersion.v3_1_1, .v5] {
            for packet in samplePackets(version) { seeds.append(try PacketEncoder.encode(packet, version: version)) }
        }
        for round in 0..<3000 {
            var input: [UInt8]
            if round % 3 == 0 {
                input = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            } else {
                input = seeds[Int.random(in: 0..<seeds.count, using: &rng)]
                for _ in 0..<Int.random(in: 1...4, using: &rng) where !input.isEmpty {
                    input[Int.random(in: 0..<input.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
                if Bool.random(using: &rng) { input.removeLast(Int.random(in: 0...input.count, using: &rng)) }
            }
            for version in [MQTTVersion.v3_1_1, .v5] {
                var decoder = PacketDecoder(version: version, maximumPacketSize: 512)
                decoder.append(input)
                do { while try decoder.next() != nil {} } catch {}
            }
        }
    }
}
