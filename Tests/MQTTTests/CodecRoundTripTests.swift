import MQTT
import Testing

/// One representative of every packet type, with every field that the version can carry populated.
func samplePackets(_ version: MQTTVersion) -> [Packet] {
    let v5 = version == .v5
    let user = v5 ? [UserProperty("k", "v"), UserProperty("k", "v2")] : []
    let ackProperties = v5 ? AckProperties(reasonString: "why", userProperties: user) : AckProperties()
    let will = Will(
        topic: "dev/status",
        payload: bytes("offline"),
        qos: .atLeastOnce,
        retain: true,
        properties: v5
            ? WillProperties(
                willDelayInterval: 5,
                payloadFormatIndicator: .utf8,
                messageExpiryInterval: 60,
                contentType: "text/plain",
                responseTopic: "r",
                correlationData: [1, 2],
                userProperties: user
            ) : WillProperties()
    )
    var packets: [Packet] = [
        .connect(
            ConnectPacket(
                clientID: "dev1",
                cleanStart: false,
                keepAlive: 60,
                will: will,
                username: "u",
                password: [0, 1, 255],
                properties: v5
                    ? ConnectProperties(
                        sessionExpiryInterval: 3600,
                        receiveMaximum: 10,
                        maximumPacketSize: 4096,
                        topicAliasMaximum: 0,
                        requestResponseInformation: true,
                        requestProblemInformation: false,
                        userProperties: user,
                        authenticationMethod: "m",
                        authenticationData: [9]
                    ) : ConnectProperties()
            )
        ),
        .connect(ConnectPacket(clientID: "", cleanStart: true, keepAlive: 0)),
        .connack(ConnAckPacket(sessionPresent: true)),
        .connack(ConnAckPacket(sessionPresent: false, reasonCode: .notAuthorized)),
        .publish(PublishPacket(topic: "a/b", payload: [], qos: .atMostOnce)),
        .publish(
            PublishPacket(
                topic: "a/b",
                payload: Array(0...255),
                qos: .atLeastOnce,
                retain: true,
                dup: true,
                packetID: 1,
                properties: v5
                    ? PublishProperties(
                        payloadFormatIndicator: .bytes,
                        messageExpiryInterval: 10,
                        responseTopic: "resp",
                        correlationData: [7],
                        userProperties: user,
                        subscriptionIdentifiers: [1, 268_435_455],
                        contentType: "bin"
                    ) : PublishProperties()
            )
        ),
        .publish(PublishPacket(topic: "é/ü/日本", payload: bytes("x"), qos: .exactlyOnce, packetID: 65535)),
        .puback(AckPacket(packetID: 7)),
        .pubrec(AckPacket(packetID: 8)),
        .pubrel(AckPacket(packetID: 9)),
        .pubcomp(AckPacket(packetID: 10)),
        .subscribe(
            SubscribePacket(
                packetID: 11,
                subscriptions: [
                    Subscription(
                        topicFilter: "cmd/#",
                        qos: .exactlyOnce,
                        noLocal: v5,
                        retainAsPublished: v5,
                        retainHandling: v5 ? .doNotSend : .sendOnSubscribe
                    ),
                    Subscription(topicFilter: "+/x/+", qos: .atMostOnce),
                ],
                properties: v5
                    ? SubscribeProperties(subscriptionIdentifier: 42, userProperties: user) : SubscribeProperties()
            )
        ),
        .suback(
            SubAckPacket(
                packetID: 11,
                reasonCodes: [.grantedQoS2, .grantedQoS0, .unspecifiedError],
                properties: ackProperties
            )
        ),
        .unsubscribe(
            UnsubscribePacket(
                packetID: 12,
                topicFilters: ["cmd/#", "a"],
                properties: v5 ? UnsubscribeProperties(userProperties: user) : UnsubscribeProperties()
            )
        ),
        .unsuback(
            UnsubAckPacket(
                packetID: 12,
                reasonCodes: v5 ? [.success, .noSubscriptionExisted] : [],
                properties: ackProperties
            )
        ),
        .pingreq,
        .pingresp,
        .disconnect(DisconnectPacket()),
    ]
    if v5 {
        packets += [
            .connack(
                ConnAckPacket(
                    sessionPresent: false,
                    properties: ConnAckProperties(
                        sessionExpiryInterval: 100,
                        receiveMaximum: 20,
                        maximumQoS: .atLeastOnce,
                        retainAvailable: false,
                        maximumPacketSize: 1000,
                        assignedClientIdentifier: "auto-1",
                        topicAliasMaximum: 5,
                        reasonString: "ok",
                        userProperties: user,
                        wildcardSubscriptionAvailable: true,
                        subscriptionIdentifiersAvailable: false,
                        sharedSubscriptionAvailable: true,
                        serverKeepAlive: 30,
                        responseInformation: "ri",
                        serverReference: "other:1883",
                        authenticationMethod: "m",
                        authenticationData: [1]
                    )
                )
            ),
            .puback(AckPacket(packetID: 1, reasonCode: .noMatchingSubscribers)),
            .puback(AckPacket(packetID: 2, reasonCode: .quotaExceeded, properties: ackProperties)),
            .pubrec(AckPacket(packetID: 3, reasonCode: .notAuthorized, properties: ackProperties)),
            .pubrel(AckPacket(packetID: 4, reasonCode: .packetIdentifierNotFound)),
            .pubcomp(AckPacket(packetID: 5, properties: ackProperties)),
            .publish(
                PublishPacket(
                    topic: "",
                    payload: [1],
                    qos: .atMostOnce,
                    properties: PublishProperties(topicAlias: 3)
                )
            ),
            .disconnect(DisconnectPacket(reasonCode: .sessionTakenOver)),
            .disconnect(
                DisconnectPacket(
                    reasonCode: .serverMoved,
                    properties: DisconnectProperties(
                        sessionExpiryInterval: 0,
                        reasonString: "bye",
                        userProperties: user,
                        serverReference: "x"
                    )
                )
            ),
            .auth(AuthPacket()),
            .auth(
                AuthPacket(
                    reasonCode: .continueAuthentication,
                    properties: AuthProperties(
                        authenticationMethod: "SCRAM",
                        authenticationData: [1, 2, 3],
                        reasonString: "r",
                        userProperties: user
                    )
                )
            ),
        ]
    } else {
        packets += (1...5).map { code in
            .connack(ConnAckPacket(sessionPresent: false, reasonCode: ReasonCode(v3ConnectReturnCode: UInt8(code))!))
        }
    }
    return packets
}

@Suite("Codec round trips")
struct CodecRoundTripTests {
    @Test("every packet type round-trips, whole buffer", arguments: [MQTTVersion.v3_1_1, .v5])
    func roundTripWhole(version: MQTTVersion) throws {
        for packet in samplePackets(version) {
            let encoded = try PacketEncoder.encode(packet, version: version)
            let decoded = try decodeOne(encoded, version: version)
            #expect(decoded == packet, "\(packet) -> \(hex(encoded))")
        }
    }

    @Test("all packets concatenated, fed byte by byte", arguments: [MQTTVersion.v3_1_1, .v5])
    func byteByByte(version: MQTTVersion) throws {
        let packets = samplePackets(version)
        var stream: [UInt8] = []
        for packet in packets { try PacketEncoder.encode(packet, version: version, into: &stream) }
        let decoded = try decodeAll(stream, version: version) { _ in 1 }
        #expect(decoded == packets)
    }

    @Test("all packets concatenated, fed in seeded random chunks", arguments: [MQTTVersion.v3_1_1, .v5])
    func randomChunks(version: MQTTVersion) throws {
        let packets = samplePackets(version)
        var stream: [UInt8] = []
        for packet in packets { try PacketEncoder.encode(packet, version: version, into: &stream) }
        for seed in UInt64(1)...50 {
            var rng = SplitMix64(seed: seed)
            let decoded = try decodeAll(stream, version: version) { _ in Int.random(in: 1...64, using: &rng) }
            #expect(decoded == packets, "seed \(seed)")
        }
    }

    @Test("next() returns nil until the packet is complete, and consumes exactly one packet")
    func incremental() throws {
        let ping = try PacketEncoder.encode(.pingreq, version: .v5)
        let publish = try PacketEncoder.encode(
            .publish(PublishPacket(topic: "t", payload: [1, 2], qos: .atMostOnce)),
            version: .v5
        )
        var decoder = PacketDecoder(version: .v5)
        decoder.append(publish.prefix(3))
        #expect(try decoder.next() == nil)
        decoder.append(publish.dropFirst(3) + ping)
        #expect(try decoder.next() == .publish(PublishPacket(topic: "t", payload: [1, 2], qos: .atMostOnce)))
        #expect(decoder.bufferedByteCount == ping.count)
        #expect(try decoder.next() == .pingreq)
        #expect(try decoder.next() == nil)
    }

    @Test("large payload uses a multi-byte remaining length [MQTT-1.5.5-1]")
    func largePayload() throws {
        let packet = Packet.publish(
            PublishPacket(topic: "big", payload: Array(repeating: 0xAB, count: 200_000), qos: .atMostOnce)
        )
        let encoded = try PacketEncoder.encode(packet, version: .v3_1_1)
        #expect(Array(encoded.prefix(4)) == [0x30, 0xC5, 0x9A, 0x0C])  // 200005 = 0x30D45
        #expect(try decodeAll(encoded, version: .v3_1_1) { _ in 4096 } == [packet])
    }

    @Test("v3.1.1 drops MQTT 5-only fields: ack reason codes and properties are not encoded")
    func v3IgnoresV5Fields() throws {
        let ack = Packet.puback(
            AckPacket(packetID: 1, reasonCode: .quotaExceeded, properties: AckProperties(reasonString: "x"))
        )
        #expect(try PacketEncoder.encode(ack, version: .v3_1_1) == [0x40, 0x02, 0x00, 0x01])
        #expect(throws: MQTTCodecError.self) { try PacketEncoder.encode(.auth(AuthPacket()), version: .v3_1_1) }
    }
}
