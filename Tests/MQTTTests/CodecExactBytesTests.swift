import MQTT
import Testing

@Suite("Codec exact bytes")
struct CodecExactBytesTests {
    func check(_ packet: Packet, _ version: MQTTVersion, _ expected: [UInt8]) throws {
        let encoded = try PacketEncoder.encode(packet, version: version)
        #expect(encoded == expected, "got \(hex(encoded))")
        #expect(try decodeOne(expected, version: version) == packet)
    }

    @Test("CONNECT v3.1.1 with will, user name and password [MQTT-3.1.3-1] payload order")
    func connectV3() throws {
        let packet = Packet.connect(
            ConnectPacket(
                clientID: "c1",
                cleanStart: true,
                keepAlive: 60,
                will: Will(topic: "w", payload: bytes("x"), qos: .atLeastOnce, retain: true),
                username: "u",
                password: bytes("p")
            )
        )
        try check(
            packet,
            .v3_1_1,
            [
                0x10, 0x1A,
                0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x04,  // "MQTT", level 4
                0xEE,  // user | password | will retain | will QoS 1 | will | clean session
                0x00, 0x3C,  // keep alive 60
                0x00, 0x02, 0x63, 0x31,  // client id "c1"
                0x00, 0x01, 0x77,  // will topic "w"
                0x00, 0x01, 0x78,  // will payload "x"
                0x00, 0x01, 0x75,  // user name "u"
                0x00, 0x01, 0x70,  // password "p"
            ]
        )
    }

    @Test("CONNECT v5 with Session Expiry Interval")
    func connectV5() throws {
        let packet = Packet.connect(
            ConnectPacket(
                clientID: "c1",
                cleanStart: false,
                keepAlive: 30,
                properties: ConnectProperties(sessionExpiryInterval: 3600)
            )
        )
        try check(
            packet,
            .v5,
            [
                0x10, 0x14,
                0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x05, 0x00, 0x00, 0x1E,
                0x05, 0x11, 0x00, 0x00, 0x0E, 0x10,  // properties: Session Expiry Interval 3600
                0x00, 0x02, 0x63, 0x31,
            ]
        )
    }

    @Test("PUBLISH QoS 1 v5 with properties")
    func publishV5() throws {
        let packet = Packet.publish(
            PublishPacket(
                topic: "a/b",
                payload: bytes("hi"),
                qos: .atLeastOnce,
                packetID: 10,
                properties: PublishProperties(
                    payloadFormatIndicator: .utf8,
                    messageExpiryInterval: 60,
                    userProperties: [UserProperty("k", "v")],
                    contentType: "t"
                )
            )
        )
        try check(
            packet,
            .v5,
            [
                0x32, 0x1C,
                0x00, 0x03, 0x61, 0x2F, 0x62,  // topic
                0x00, 0x0A,  // packet id
                0x12,  // property length 18
                0x01, 0x01,  // payload format: UTF-8
                0x02, 0x00, 0x00, 0x00, 0x3C,  // message expiry 60
                0x26, 0x00, 0x01, 0x6B, 0x00, 0x01, 0x76,  // user property k=v
                0x03, 0x00, 0x01, 0x74,  // content type "t"
                0x68, 0x69,
            ]
        )
    }

    @Test("PUBLISH QoS 0 v3.1.1 has no packet identifier [MQTT-2.3.1-5]")
    func publishQoS0() throws {
        try check(
            .publish(PublishPacket(topic: "a", payload: [1], qos: .atMostOnce, retain: true)),
            .v3_1_1,
            [0x31, 0x04, 0x00, 0x01, 0x61, 0x01]
        )
    }

    @Test("CONNACK v3.1.1: session present, and return codes 1...5 map to MQTT 5 reason codes")
    func connackV3() throws {
        try check(.connack(ConnAckPacket(sessionPresent: true)), .v3_1_1, [0x20, 0x02, 0x01, 0x00])
        let expected: [UInt8: ReasonCode] = [
            1: .unsupportedProtocolVersion, 2: .clientIdentifierNotValid,
            3: .serverUnavailable, 4: .badUserNameOrPassword, 5: .notAuthorized,
        ]
        for (code, reason) in expected {
            try check(
                .connack(ConnAckPacket(sessionPresent: false, reasonCode: reason)),
                .v3_1_1,
                [0x20, 0x02, 0x00, code]
            )
        }
        #expect(decodeError([0x20, 0x02, 0x00, 0x06], version: .v3_1_1)?.code == .protocolViolation)
    }

    @Test("CONNACK v5: minimal and with Receive Maximum")
    func connackV5() throws {
        try check(.connack(ConnAckPacket(sessionPresent: false)), .v5, [0x20, 0x03, 0x00, 0x00, 0x00])
        try check(
            .connack(ConnAckPacket(sessionPresent: true, properties: ConnAckProperties(receiveMaximum: 10))),
            .v5,
            [0x20, 0x06, 0x01, 0x00, 0x03, 0x21, 0x00, 0x0A]
        )
        try check(
            .connack(ConnAckPacket(sessionPresent: false, reasonCode: .notAuthorized)),
            .v5,
            [0x20, 0x03, 0x00, 0x87, 0x00]
        )
    }

    @Test(
        "fixed header flags: PUBREL 0x62, SUBSCRIBE 0x82, UNSUBSCRIBE 0xA2 [MQTT-2.1.3-1] [MQTT-3.6.1-1]",
        arguments: [MQTTVersion.v3_1_1, .v5]
    )
    func fixedFlags(version: MQTTVersion) throws {
        #expect(
            try PacketEncoder.encode(.pubrel(AckPacket(packetID: 1)), version: version) == [0x62, 0x02, 0x00, 0x01]
        )
        let subscribe = try PacketEncoder.encode(
            .subscribe(SubscribePacket(packetID: 1, subscriptions: [Subscription(topicFilter: "a")])),
            version: version
        )
        #expect(subscribe.first == 0x82)
        let unsubscribe = try PacketEncoder.encode(
            .unsubscribe(UnsubscribePacket(packetID: 1, topicFilters: ["a"])),
            version: version
        )
        #expect(unsubscribe.first == 0xA2)
    }

    @Test(
        "v5 acks: success without properties is 2 bytes, reason without properties 3 bytes; empty properties = 0 [MQTT-2.2.2-1]"
    )
    func v5AckShortForms() throws {
        try check(.puback(AckPacket(packetID: 1)), .v5, [0x40, 0x02, 0x00, 0x01])
        try check(.puback(AckPacket(packetID: 1, reasonCode: .notAuthorized)), .v5, [0x40, 0x03, 0x00, 0x01, 0x87])
        #expect(
            try decodeOne([0x40, 0x04, 0x00, 0x01, 0x10, 0x00], version: .v5)
                == .puback(AckPacket(packetID: 1, reasonCode: .noMatchingSubscribers))
        )
        try check(.disconnect(DisconnectPacket()), .v5, [0xE0, 0x00])
        try check(.disconnect(DisconnectPacket(reasonCode: .sessionTakenOver)), .v5, [0xE0, 0x01, 0x8E])
        try check(
            .subscribe(
                SubscribePacket(packetID: 2, subscriptions: [Subscription(topicFilter: "a", qos: .atLeastOnce)])
            ),
            .v5,
            [0x82, 0x07, 0x00, 0x02, 0x00, 0x00, 0x01, 0x61, 0x01]
        )
        try check(.pingreq, .v5, [0xC0, 0x00])
        try check(.pingresp, .v5, [0xD0, 0x00])
    }
}
