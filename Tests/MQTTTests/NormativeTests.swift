import MQTT
import Testing

/// One test (or more) per client-side normative statement of reference/mqtt.md §6 that the other suites do not
/// already pin down; NORMATIVE.md maps every statement to its tests.
@Suite("Normative client statements (MQTT 3.1.1 and 5.0)")
struct NormativeTests {
    // MARK: - Session state and Clean Start

    @Test(
        "state is kept after disconnect with Clean Session/Start 0 [MQTT-3.1.2-4] (3.1.1) [MQTT-3.1.2-23] (5) and resent on resume",
        arguments: [MQTTVersion.v3_1_1, .v5]
    )
    func stateKeptAfterDisconnect(version: MQTTVersion) {
        var h = Harness(Harness.config(version))
        h.connect()
        let id = h.publishes(h.publish("m", qos: .atLeastOnce, tag: 1)).first?.packetID ?? 0
        _ = h.session.disconnect(now: h.now)  // graceful
        #expect(h.session.inFlightCount == 1)
        #expect(h.session.persistentState.inFlight.map(\.packetID) == [id])
        let sent = h.packets(h.connect(sessionPresent: true))
        #expect(
            sent == [
                .publish(PublishPacket(topic: "m", payload: bytes("p"), qos: .atLeastOnce, dup: true, packetID: id))
            ]
        )
    }

    @Test(
        "Clean Session/Start 1 discards the session: no PUBREL, no DUP, incoming QoS 2 ids forgotten [MQTT-3.1.2-6] (3.1.1) [MQTT-3.1.2-4] (5)",
        arguments: [MQTTVersion.v3_1_1, .v5]
    )
    func cleanStartDiscards(version: MQTTVersion) {
        var h = Harness(Harness.config(version, cleanStart: true))
        h.connect()
        let id = h.publishes(h.publish("m", qos: .exactlyOnce, tag: 1)).first?.packetID ?? 0
        _ = h.receive(.pubrec(AckPacket(packetID: id)))
        let incoming = PublishPacket(topic: "in", payload: [1], qos: .exactlyOnce, packetID: 9)
        _ = h.receive(.publish(incoming))
        _ = h.session.connectionLost()
        let connect = h.packets(h.session.connectionEstablished(now: h.now))
        guard case .connect(let packet)? = connect.first else {
            Issue.record("no CONNECT")
            return
        }
        #expect(packet.cleanStart)
        let sent = h.packets(h.receive(.connack(ConnAckPacket(sessionPresent: false))))
        #expect(!sent.contains { if case .pubrel = $0 { true } else { false } })
        // The application message itself is not lost: it goes out again as a new message.
        guard case .publish(let again)? = sent.first else {
            Issue.record("expected a new PUBLISH, got \(sent)")
            return
        }
        #expect(!again.dup && again.qos == .exactlyOnce && again.topic == "m")
        // Same id from the broker is a new message now.
        _ = h.session.connectionLost()
        h.connect()
        #expect(h.events(h.receive(.publish(incoming))) == [.messageReceived(incoming)])
    }

    @Test(
        "v5: Session Present=1 to a client without session state closes, then Clean Start=1 starts anew [MQTT-3.2.2-4]"
    )
    func noStateSessionPresentCloses() {
        var h = Harness(Harness.config(.v5, cleanStart: false))
        guard case .connect(let first)? = h.packets(h.session.connectionEstablished(now: .zero)).first else {
            Issue.record("no CONNECT")
            return
        }
        #expect(!first.cleanStart)
        let actions = h.receive(.connack(ConnAckPacket(sessionPresent: true)))
        #expect(h.closes(actions) == [.protocolError])
        #expect(!h.session.isConnected)
        guard case .connect(let second)? = h.packets(h.session.connectionEstablished(now: .zero)).first else {
            Issue.record("no CONNECT")
            return
        }
        #expect(second.cleanStart)
        #expect(h.closes(h.receive(.connack(ConnAckPacket(sessionPresent: false)))) == [])
        _ = h.session.connectionLost()
        guard case .connect(let third)? = h.packets(h.session.connectionEstablished(now: .zero)).first else {
            Issue.record("no CONNECT")
            return
        }
        #expect(!third.cleanStart)
    }

    @Test(
        "v5: once a session exists (connected or restored), Clean Start=0 resumes it and Session Present=1 is accepted [MQTT-3.1.2-5] [MQTT-3.1.2-6]"
    )
    func stateHolderResumes() {
        var h = Harness(Harness.config(.v5))
        h.connect()
        _ = h.session.connectionLost()
        guard case .connect(let second)? = h.packets(h.session.connectionEstablished(now: .zero)).first else {
            Issue.record("no CONNECT")
            return
        }
        #expect(!second.cleanStart)
        #expect(h.closes(h.receive(.connack(ConnAckPacket(sessionPresent: true)))) == [])

        var restored = Harness(Harness.config(.v5), restoring: SessionSnapshot(clientID: "dev1"))
        guard case .connect(let first)? = restored.packets(restored.session.connectionEstablished(now: .zero)).first
        else {
            Issue.record("no CONNECT")
            return
        }
        #expect(!first.cleanStart)
        #expect(restored.closes(restored.receive(.connack(ConnAckPacket(sessionPresent: true)))) == [])
        #expect(restored.session.isConnected)
    }

    @Test("v3.1.1 has no rule like [MQTT-3.2.2-4]: Session Present=1 is accepted without local state")
    func v311NoStateSessionPresent() {
        var h = Harness(Harness.config(.v3_1_1))
        guard case .connect(let connect)? = h.packets(h.session.connectionEstablished(now: .zero)).first else {
            Issue.record("no CONNECT")
            return
        }
        #expect(!connect.cleanStart)
        #expect(h.closes(h.receive(.connack(ConnAckPacket(sessionPresent: true)))) == [])
    }

    @Test("v5: Session Present=0 with state discards incoming QoS 2 ids too [MQTT-3.2.2-5]")
    func sessionNotPresentDiscardsIncoming() {
        var h = Harness(Harness.config(.v5))
        h.connect()
        let incoming = PublishPacket(topic: "in", payload: [1], qos: .exactlyOnce, packetID: 4)
        _ = h.receive(.publish(incoming))
        _ = h.session.connectionLost()
        h.connect(sessionPresent: false)
        #expect(h.session.persistentState.incomingQoS2PacketIDs == [])
        #expect(h.events(h.receive(.publish(incoming))) == [.messageReceived(incoming)])
    }

    @Test("v5: no state discarded and nothing resent while connected, however long [MQTT-4.1.0-1] [MQTT-4.4.0-1]")
    func nothingResentOnLiveConnection() {
        var h = Harness(Harness.config(.v5, keepAlive: .seconds(10)))
        h.connect()
        _ = h.publish("a", qos: .atLeastOnce, tag: 1)
        _ = h.publish("b", qos: .exactlyOnce, tag: 2)
        var sent: [Packet] = []
        for step in 1...50 {
            h.now = .seconds(10 * step)
            sent += h.packets(h.session.tick(now: h.now))
            sent += h.packets(h.receive(.pingresp))
        }
        #expect(sent.allSatisfy { $0 == .pingreq })
        #expect(!sent.isEmpty)
        #expect(h.session.inFlightCount == 2)
    }

    @Test(
        "v5 DISCONNECT never carries a Session Expiry Interval (non-zero after zero is a Protocol Error, §3.14.2.2.2)",
        arguments: [UInt32?.none, 0, 3600]
    )
    func disconnectWithoutExpiry(expiry: UInt32?) {
        var configuration = Harness.config(.v5)
        configuration.sessionExpiry = expiry
        var h = Harness(configuration)
        h.connect()
        let actions = h.session.disconnect(now: h.now)
        #expect(h.packets(actions) == [.disconnect(DisconnectPacket(reasonCode: .normalDisconnection))])
        #expect(actions.compactMap { if case .send(let b) = $0 { b } else { nil } } == [[UInt8(0xE0), 0x00]])
    }

    // MARK: - Resend, DUP and ordering

    @Test("QoS 0 is never sent with DUP=1 and never resent [MQTT-3.3.1-2]", arguments: [MQTTVersion.v3_1_1, .v5])
    func qos0NoDup(version: MQTTVersion) {
        var h = Harness(Harness.config(version))
        h.connect()
        _ = h.session.connectionLost()
        _ = h.publish("q0", qos: .atMostOnce, tag: 1)  // queued while offline
        let sent = h.publishes(h.connect(sessionPresent: true))
        #expect(sent.map(\.dup) == [false])
        #expect(sent.first?.packetID == nil)
        _ = h.session.connectionLost()
        #expect(h.publishes(h.connect(sessionPresent: true)).isEmpty)
    }

    @Test(
        "incoming QoS 1 and 2 acknowledged in receive order, echoing the id [MQTT-4.6.0-2] [MQTT-4.6.0-3] [MQTT-2.3.1-6] [MQTT-2.3.1-7] [MQTT-2.2.1-5] [MQTT-2.2.1-6]",
        arguments: [MQTTVersion.v3_1_1, .v5]
    )
    func acksInReceiveOrder(version: MQTTVersion) throws {
        var h = Harness(Harness.config(version))
        h.connect()
        var stream: [UInt8] = []
        for id: UInt16 in [513, 3, 40000] {
            stream += try PacketEncoder.encode(
                .publish(PublishPacket(topic: "c", payload: [], qos: .atLeastOnce, packetID: id)),
                version: version
            )
        }
        for id: UInt16 in [7, 65535, 2] {
            stream += try PacketEncoder.encode(
                .publish(PublishPacket(topic: "c", payload: [], qos: .exactlyOnce, packetID: id)),
                version: version
            )
        }
        let acks = h.packets(h.session.received(stream, now: h.now))
        #expect(
            acks == [
                .puback(AckPacket(packetID: 513)), .puback(AckPacket(packetID: 3)), .puback(AckPacket(packetID: 40000)),
                .pubrec(AckPacket(packetID: 7)), .pubrec(AckPacket(packetID: 65535)), .pubrec(AckPacket(packetID: 2)),
            ]
        )
        #expect(h.packets(h.receive(.pubrel(AckPacket(packetID: 65535)))) == [.pubcomp(AckPacket(packetID: 65535))])
    }

    @Test(
        "PUBREL in PUBREC order, live and when resent [MQTT-4.6.0-4]; PUBLISH resends keep original order [MQTT-4.6.0-1]",
        arguments: [MQTTVersion.v3_1_1, .v5]
    )
    func pubrelInPubrecOrder(version: MQTTVersion) {
        var h = Harness(Harness.config(version))
        h.connect()
        let ids = (1...4).map {
            h.publishes(h.publish("m\($0)", qos: .exactlyOnce, tag: UInt64($0))).first?.packetID ?? 0
        }
        // PUBRECs arrive for m3, then m1; m2 and m4 stay unacknowledged.
        #expect(h.packets(h.receive(.pubrec(AckPacket(packetID: ids[2])))) == [.pubrel(AckPacket(packetID: ids[2]))])
        #expect(h.packets(h.receive(.pubrec(AckPacket(packetID: ids[0])))) == [.pubrel(AckPacket(packetID: ids[0]))])
        _ = h.session.connectionLost()
        let resent = h.packets(h.connect(sessionPresent: true))
        let pubrels = resent.compactMap { if case .pubrel(let a) = $0 { a.packetID } else { nil } }
        let publishes = resent.compactMap { if case .publish(let p) = $0 { p } else { nil } }
        #expect(pubrels == [ids[2], ids[0]])
        #expect(publishes.map(\.topic) == ["m2", "m4"])
        #expect(publishes.allSatisfy { $0.dup })
        #expect(publishes.map(\.packetID) == [ids[1], ids[3]])
    }

    @Test(
        "QoS 2 after PUBREC: PUBLISH never sent again, only PUBREL, in 3.1.1 too [MQTT-4.3.3-1] (3.1.1)",
        arguments: [MQTTVersion.v3_1_1, .v5]
    )
    func qos2NeverRepublishedAfterPubrel(version: MQTTVersion) {
        var h = Harness(Harness.config(version))
        h.connect()
        let id = h.publishes(h.publish(qos: .exactlyOnce, tag: 1)).first?.packetID ?? 0
        _ = h.receive(.pubrec(AckPacket(packetID: id)))
        // A duplicate PUBREC gets the PUBREL again, never the PUBLISH.
        #expect(h.packets(h.receive(.pubrec(AckPacket(packetID: id)))) == [.pubrel(AckPacket(packetID: id))])
        for _ in 0..<2 {
            _ = h.session.connectionLost()
            #expect(h.packets(h.connect(sessionPresent: true)) == [.pubrel(AckPacket(packetID: id))])
        }
    }

    @Test(
        "QoS 1 handshake: DUP=0 on first send, unacknowledged until PUBACK for its id [MQTT-4.3.2-1] [MQTT-4.3.2-2] [MQTT-4.3.2-3]",
        arguments: [MQTTVersion.v3_1_1, .v5]
    )
    func qos1Handshake(version: MQTTVersion) {
        var h = Harness(Harness.config(version))
        h.connect()
        guard let sent = h.publishes(h.publish(qos: .atLeastOnce, tag: 1)).first, let id = sent.packetID else {
            Issue.record("no PUBLISH")
            return
        }
        #expect(!sent.dup && id != 0)
        #expect(h.events(h.receive(.puback(AckPacket(packetID: id &+ 1)))) == [])
        #expect(h.events(h.receive(.pubrec(AckPacket(packetID: id)))).isEmpty)  // wrong ack type for QoS 1
        #expect(h.events(h.receive(.pubcomp(AckPacket(packetID: id)))) == [])
        #expect(h.session.inFlightCount == 1)
        #expect(h.events(h.receive(.puback(AckPacket(packetID: id)))) == [.delivered(tag: 1)])
        #expect(h.session.inFlightCount == 0)
    }

    @Test(
        "QoS 2 handshake: DUP=0, unacked until PUBREC, PUBREL only after PUBREC < 0x80, unacked until PUBCOMP [MQTT-4.3.3-1] [MQTT-4.3.3-2] [MQTT-4.3.3-3] [MQTT-4.3.3-4] [MQTT-4.3.3-5]",
        arguments: [MQTTVersion.v3_1_1, .v5]
    )
    func qos2Handshake(version: MQTTVersion) {
        var h = Harness(Harness.config(version))
        h.connect()
        guard let sent = h.publishes(h.publish(qos: .exactlyOnce, tag: 1)).first, let id = sent.packetID else {
            Issue.record("no PUBLISH")
            return
        }
        #expect(!sent.dup && id != 0)
        // PUBCOMP before PUBREC and PUBACK are not the handshake: nothing happens.
        #expect(h.receive(.pubcomp(AckPacket(packetID: id))) == [])
        #expect(h.receive(.puback(AckPacket(packetID: id))) == [])
        #expect(h.packets(h.receive(.pubrec(AckPacket(packetID: id)))) == [.pubrel(AckPacket(packetID: id))])
        #expect(h.session.inFlightCount == 1)
        #expect(h.events(h.receive(.pubcomp(AckPacket(packetID: id)))) == [.delivered(tag: 1)])
        #expect(h.session.inFlightCount == 0)
    }

    @Test("v5 PUBREC >= 0x80: no PUBREL, id free, quota back [MQTT-4.3.3-4] [MQTT-4.4.0-2] [MQTT-4.9.0-3]")
    func failedPubrec() {
        var h = Harness(Harness.config(.v5))
        h.connect(properties: ConnAckProperties(receiveMaximum: 1))
        let id = h.publishes(h.publish("a", qos: .exactlyOnce, tag: 1)).first?.packetID ?? 0
        #expect(h.publishes(h.publish("b", qos: .exactlyOnce, tag: 2)).isEmpty)  // quota 0
        let actions = h.receive(.pubrec(AckPacket(packetID: id, reasonCode: .quotaExceeded)))
        #expect(h.events(actions) == [.deliveryFailed(tag: 1, .quotaExceeded)])
        let sent = h.packets(actions)
        #expect(!sent.contains { if case .pubrel = $0 { true } else { false } })
        #expect(h.publishes(actions).map(\.topic) == ["b"])
        _ = h.session.connectionLost()
        #expect(h.publishes(h.connect(sessionPresent: true)).map(\.topic) == ["b"])  // "a" is never retransmitted
    }

    // MARK: - Packet identifiers

    @Test(
        "restored ids are never reused, across wrap-around; 0 is skipped [MQTT-2.2.1-3] [MQTT-2.3.1-1] [MQTT-2.3.1-2]"
    )
    func idsAfterRestoreAndWrap() {
        let message = SessionSnapshot.Message(topic: "t", payload: [], qos: .atLeastOnce, retain: false, tag: 1)
        let snapshot = SessionSnapshot(
            clientID: "dev1",
            inFlight: [
                .init(packetID: 65535, phase: .awaitingAcknowledgement, message: message),
                .init(packetID: 1, phase: .awaitingAcknowledgement, message: message),
            ],
            nextPacketID: 65535
        )
        var h = Harness(Harness.config(.v5), restoring: snapshot)
        h.connect(sessionPresent: true)
        var fresh: [UInt16] = []
        for tag in UInt64(10)..<13 {
            fresh += h.publishes(h.publish(qos: .atLeastOnce, tag: tag)).compactMap(\.packetID)
        }
        #expect(fresh == [2, 3, 4])
        // A SUBSCRIBE takes an id from the same set.
        let subscription = try? h.session.subscribe([Subscription(topicFilter: "x/#", qos: .atLeastOnce)], now: h.now)
        #expect(subscription.map { ![65535, 1, 2, 3, 4].contains($0.packetID) && $0.packetID != 0 } == true)
    }

    // MARK: - Flow control (MQTT 5)

    @Test(
        "v5 quota: PUBCOMP with an error frees it; quota 0 still lets PINGREQ, QoS 0 and acks through [MQTT-3.3.4-8] [MQTT-4.9.0-1] [MQTT-4.9.0-2] [MQTT-4.9.0-3]"
    )
    func quotaAndOtherPackets() {
        var h = Harness(Harness.config(.v5, keepAlive: .seconds(10)))
        h.connect(properties: ConnAckProperties(receiveMaximum: 1))
        let id = h.publishes(h.publish("a", qos: .exactlyOnce, tag: 1)).first?.packetID ?? 0
        #expect(h.publishes(h.publish("b", qos: .atLeastOnce, tag: 2)).isEmpty)
        #expect(h.publishes(h.publish("q0", qos: .atMostOnce, tag: 3)).map(\.topic) == ["q0"])
        #expect(
            h.packets(h.receive(.publish(PublishPacket(topic: "c", payload: [], qos: .atLeastOnce, packetID: 8))))
                == [.puback(AckPacket(packetID: 8))]
        )
        h.now = .seconds(20)
        #expect(h.packets(h.session.tick(now: h.now)) == [.pingreq])
        _ = h.receive(.pubrec(AckPacket(packetID: id)))
        #expect(
            h.publishes(h.receive(.pubcomp(AckPacket(packetID: id, reasonCode: .packetIdentifierNotFound)))).map(
                \.topic
            ) == ["b"]
        )
    }

    @Test(
        "client in-flight cap: at most maximumInFlight unacknowledged QoS 1/2 PUBLISHes, in 3.1.1 too; the smaller of it and the server's Receive Maximum in v5",
        arguments: [MQTTVersion.v3_1_1, .v5]
    )
    func clientInFlightCap(version: MQTTVersion) {
        var configuration = Harness.config(version)
        configuration.maximumInFlight = 3
        var h = Harness(configuration)
        h.connect(properties: version == .v5 ? ConnAckProperties(receiveMaximum: 10) : ConnAckProperties())
        var sent: [PublishPacket] = []
        for tag in UInt64(1)...6 {
            sent += h.publishes(h.publish("t", qos: tag.isMultiple(of: 2) ? .exactlyOnce : .atLeastOnce, tag: tag))
        }
        #expect(sent.count == 3 && h.session.queuedCount == 3)
        // A PUBACK frees one place; a PUBREC does not (the QoS 2 exchange goes on until PUBCOMP).
        #expect(h.publishes(h.receive(.pubrec(AckPacket(packetID: sent[1].packetID ?? 0)))).isEmpty)
        let next = h.publishes(h.receive(.puback(AckPacket(packetID: sent[0].packetID ?? 0))))
        #expect(next.count == 1)
        #expect(h.publishes(h.receive(.pubcomp(AckPacket(packetID: sent[1].packetID ?? 0)))).count == 1)
        #expect(h.session.inFlightCount == 3 && h.session.queuedCount == 1)

        // v5: a server Receive Maximum below the cap wins.
        if version == .v5 {
            var low = Harness(configuration)
            low.connect(properties: ConnAckProperties(receiveMaximum: 2))
            let first = (UInt64(1)...4).flatMap { low.publishes(low.publish("t", qos: .atLeastOnce, tag: $0)) }
            #expect(first.count == 2)
        }
    }

    @Test("v5: a server exceeding our Receive Maximum gets DISCONNECT 0x93")
    func incomingReceiveMaximum() {
        var configuration = Harness.config(.v5)
        configuration.receiveMaximum = 1
        var h = Harness(configuration)
        h.connect()
        _ = h.receive(.publish(PublishPacket(topic: "c", payload: [], qos: .exactlyOnce, packetID: 1)))
        let actions = h.receive(.publish(PublishPacket(topic: "c", payload: [], qos: .exactlyOnce, packetID: 2)))
        #expect(h.packets(actions) == [.disconnect(DisconnectPacket(reasonCode: .receiveMaximumExceeded))])
        #expect(h.closes(actions) == [.protocolError])
    }

    // MARK: - Server limits (MQTT 5)

    /// A broker's view of a connection's aliases: resolves each PUBLISH the way the receiver must, failing the
    /// test on an alias that was never bound on this connection or exceeds the maximum.
    struct AliasResolver {
        let maximum: UInt16
        var bindings: [UInt16: String] = [:]
        mutating func resolve(_ publish: PublishPacket) -> String? {
            guard let alias = publish.properties.topicAlias else { return publish.topic }
            guard alias != 0, alias <= maximum else { return nil }
            if !publish.topic.isEmpty { bindings[alias] = publish.topic }
            return bindings[alias]
        }
    }

    @Test(
        "v5 Topic Alias: repeated topics go by alias up to the server's maximum, never 0, never across connections [MQTT-3.2.2-17] [MQTT-3.2.2-18] [MQTT-3.3.2-7] [MQTT-3.3.2-8] [MQTT-3.3.2-9]"
    )
    func topicAliases() {
        var h = Harness(Harness.config(.v5))
        h.connect(properties: ConnAckProperties(topicAliasMaximum: 2))
        var broker = AliasResolver(maximum: 2)
        let topics = ["devices/d/sensors/a", "devices/d/sensors/b", "devices/d/sensors/c"]
        var sent: [PublishPacket] = []
        var tag: UInt64 = 0
        for _ in 0..<3 {
            for topic in topics {
                tag += 1
                sent += h.publishes(h.publish(topic, qos: .atLeastOnce, tag: tag))
            }
        }
        #expect(sent.count == 9)
        #expect(sent.map { broker.resolve($0) } == Array(repeating: topics, count: 3).flatMap { $0 })
        // a and b bind aliases 1 and 2 once, then travel without their names; c (no alias left) always by name.
        #expect(sent.map(\.properties.topicAlias) == [1, 2, nil, 1, 2, nil, 1, 2, nil])
        #expect(sent.map(\.topic.isEmpty) == [false, false, false, true, true, false, true, true, false])

        // New connection, session resumed: the unacknowledged PUBLISHes are resent and the first of each topic
        // carries its name again, because the old connection's aliases are gone [MQTT-3.3.2-7].
        _ = h.session.connectionLost()
        var resumed = AliasResolver(maximum: 2)
        let resent = h.publishes(h.connect(sessionPresent: true, properties: ConnAckProperties(topicAliasMaximum: 2)))
        #expect(resent.count == 9 && resent.allSatisfy(\.dup))
        #expect(resent.map { resumed.resolve($0) } == Array(repeating: topics, count: 3).flatMap { $0 })
        #expect(resent.prefix(2).allSatisfy { !$0.topic.isEmpty && $0.properties.topicAlias != nil })

        // Without a Topic Alias Maximum (absent = 0) no alias is sent [MQTT-3.2.2-18].
        _ = h.session.connectionLost()
        let plain = h.publishes(h.connect(sessionPresent: true))
        #expect(plain.count == 9 && plain.allSatisfy { $0.properties.topicAlias == nil && !$0.topic.isEmpty })

        // The caller cannot choose aliases: the session owns the mapping.
        #expect(throws: PublishError.self) {
            _ = try h.session.publish(
                topic: "t",
                payload: [],
                qos: .atMostOnce,
                retain: false,
                properties: PublishProperties(topicAlias: 1),
                tag: 99,
                now: h.now
            )
        }
    }

    @Test("Topic aliases stay off in 3.1.1 and when the configuration turns them off")
    func topicAliasesOff() {
        var off = Harness.config(.v5)
        off.useTopicAliases = false
        var h = Harness(off)
        h.connect(properties: ConnAckProperties(topicAliasMaximum: 10))
        var sent: [PublishPacket] = []
        for tag in UInt64(1)...3 { sent += h.publishes(h.publish("devices/d/sensors/s", qos: .atMostOnce, tag: tag)) }
        #expect(
            sent.count == 3 && sent.allSatisfy { $0.properties.topicAlias == nil && $0.topic == "devices/d/sensors/s" }
        )

        var legacy = Harness(Harness.config(.v3_1_1))
        legacy.connect()
        let v311 = (UInt64(1)...3).flatMap {
            legacy.publishes(legacy.publish("devices/d/sensors/s", qos: .atLeastOnce, tag: $0))
        }
        #expect(v311.count == 3 && v311.allSatisfy { $0.topic == "devices/d/sensors/s" })
    }

    // MARK: - Client identifier and CONNECT format

    @Test(
        "client id is the first payload field [MQTT-3.1.3-3] [MQTT-3.1.3-4]; reserved flag 0 [MQTT-3.1.2-3]; no Will ⇒ Will flags 0 [MQTT-3.1.2-11] [MQTT-3.1.2-15]",
        arguments: [MQTTVersion.v3_1_1, .v5]
    )
    func connectLayout(version: MQTTVersion) {
        var h = Harness(Harness.config(version))
        let sent = h.session.connectionEstablished(now: .zero).compactMap {
            if case .send(let b) = $0 { b } else { nil }
        }
        guard let connect = sent.first, connect.count >= 18 else {
            Issue.record("no CONNECT")
            return
        }
        // 10 bytes: fixed header (2, short packet), then "MQTT" (6), level, flags, keep alive (2).
        let flags = connect[9]
        #expect(flags & 0x01 == 0)
        #expect(flags & 0x3C == 0)
        let propertiesLength = version == .v5 ? 1 + Int(connect[12]) : 0
        let payload = Array(connect[(12 + propertiesLength)...])
        #expect(Array(payload.prefix(6)) == [UInt8(0x00), 0x04] + bytes("dev1"))
    }

    @Test("Will QoS and Retain are encoded only with a Will [MQTT-3.1.2-11] [MQTT-3.1.2-14]")
    func willFlags() {
        var configuration = Harness.config(.v3_1_1)
        configuration.will = Will(topic: "s", payload: [0], qos: .exactlyOnce, retain: true)
        var h = Harness(configuration)
        let sent = h.session.connectionEstablished(now: .zero).compactMap {
            if case .send(let b) = $0 { b } else { nil }
        }
        let flags: UInt8 = sent.first?[9] ?? 0
        #expect(flags & 0x3C == 0x34)  // Will flag, Will QoS 2, Will Retain
    }

    @Test("3.1.1: password without user name is never sent [MQTT-3.1.2-22]")
    func passwordWithoutUser() {
        var configuration = Harness.config(.v3_1_1)
        configuration.password = bytes("secret")
        var h = Harness(configuration)
        let actions = h.session.connectionEstablished(now: .zero)
        #expect(h.packets(actions).isEmpty)
        #expect(h.closes(actions) == [.protocolError])
    }

    @Test(
        "CONNACK refusal 'identifier rejected' (3.1.1 code 2 / v5 0x85) is reported and closes [MQTT-3.1.3-9] [MQTT-3.1.3-8] [MQTT-3.2.2-5]",
        arguments: [MQTTVersion.v3_1_1, .v5]
    )
    func identifierRejected(version: MQTTVersion) {
        var h = Harness(Harness.config(version))
        _ = h.session.connectionEstablished(now: .zero)
        let actions = h.receive(.connack(ConnAckPacket(sessionPresent: false, reasonCode: .clientIdentifierNotValid)))
        #expect(actions == [.event(.connectionRefused(.clientIdentifierNotValid)), .close(.connectionRefused)])
        #expect(ReasonCode.clientIdentifierNotValid.description.hasPrefix("Client Identifier not valid"))
    }

    @Test(
        "v5 CONNACK 0x9C/0x9D and DISCONNECT 0x9D are surfaced with their reason, Reason String and Server Reference",
        arguments: [ReasonCode.useAnotherServer, .serverMoved]
    )
    func serverRedirect(reason: ReasonCode) {
        var h = Harness(Harness.config(.v5))
        _ = h.session.connectionEstablished(now: .zero)
        let refused = h.receive(
            .connack(
                ConnAckPacket(
                    sessionPresent: false,
                    reasonCode: reason,
                    properties: ConnAckProperties(reasonString: "maintenance", serverReference: "other:8883")
                )
            )
        )
        let notice = ServerNotice(reasonString: "maintenance", serverReference: "other:8883")
        #expect(h.events(refused) == [.connectionRefused(reason, notice)])
        #expect(notice.description == "broker says \"maintenance\"; it points to \"other:8883\" (Server Reference)")
        h.connect()
        let dropped = h.receive(
            .disconnect(
                DisconnectPacket(
                    reasonCode: reason,
                    properties: DisconnectProperties(serverReference: "b:8883")
                )
            )
        )
        #expect(h.events(dropped) == [.disconnectedByServer(reason, ServerNotice(serverReference: "b:8883"))])
        #expect(h.closes(dropped) == [.serverDisconnect])
    }

    @Test(
        "a server DISCONNECT carrying a Session Expiry Interval is a protocol error; nothing is sent back [MQTT-3.14.2-2]"
    )
    func serverDisconnectWithExpiry() {
        var h = Harness(Harness.config(.v5))
        h.connect()
        let actions = h.receive(
            .disconnect(
                DisconnectPacket(
                    reasonCode: .serverShuttingDown,
                    properties: DisconnectProperties(sessionExpiryInterval: 60)
                )
            )
        )
        #expect(h.packets(actions).isEmpty)
        #expect(h.closes(actions) == [.protocolError])
        #expect(
            h.events(actions).contains {
                if case .protocolError(let text) = $0 { text.contains("MQTT-3.14.2-2") } else { false }
            }
        )
        #expect(!h.session.isConnected)
    }

    @Test(
        "DISCONNECT may lower the Session Expiry Interval to 0 (discard the session), never raise one from 0 [§3.14.2.2.2]"
    )
    func disconnectWithExpiryOverride() {
        var h = Harness(Harness.config(.v5))  // CONNECT carries 3600
        h.connect()
        let discard = h.packets(h.session.disconnect(now: h.now, sessionExpiry: 0))
        #expect(discard == [.disconnect(DisconnectPacket(properties: DisconnectProperties(sessionExpiryInterval: 0)))])

        var zero = Harness.config(.v5)
        zero.sessionExpiry = nil
        var none = Harness(zero)
        none.connect()
        #expect(
            none.packets(none.session.disconnect(now: none.now, sessionExpiry: 60)) == [.disconnect(DisconnectPacket())]
        )

        var legacy = Harness(Harness.config(.v3_1_1))
        legacy.connect()
        #expect(
            legacy.packets(legacy.session.disconnect(now: legacy.now, sessionExpiry: 0)) == [
                .disconnect(DisconnectPacket())
            ]
        )
    }

    // MARK: - Topic names

    @Test(
        "topic names: at least one character, no U+0000, at most 65535 bytes, no wildcards [MQTT-4.7.3-1] [MQTT-4.7.3-2] [MQTT-4.7.3-3] [MQTT-3.3.2-1] [MQTT-3.3.2-2]",
        arguments: ["", "a\u{0}b", String(repeating: "x", count: 65536), "a/+", "#"]
    )
    func topicRules(topic: String) {
        var h = Harness(Harness.config(.v5))
        h.connect()
        #expect(throws: PublishError.self) {
            _ = try h.session.publish(topic: topic, payload: [], qos: .atLeastOnce, retain: false, tag: 1, now: h.now)
        }
        #expect(h.session.inFlightCount == 0 && h.session.queuedCount == 0)
    }

    // MARK: - CONNECT first and once

    @Test(
        "CONNECT is the first packet and is sent once per connection; nothing else before CONNACK [MQTT-3.1.0-1] [MQTT-3.1.0-2]",
        arguments: [MQTTVersion.v3_1_1, .v5]
    )
    func connectFirstAndOnce(version: MQTTVersion) {
        var h = Harness(Harness.config(version, keepAlive: .seconds(1)))
        #expect(h.publish(qos: .atLeastOnce, tag: 1) == [])  // no connection: queued
        let connectActions = h.session.connectionEstablished(now: .zero)
        let first = h.packets(connectActions)
        #expect(first.count == 1)
        if case .connect = first.first {} else { Issue.record("first packet is not CONNECT: \(first)") }
        // Before CONNACK: no PUBLISH, no PINGREQ, and no second CONNECT.
        #expect(h.publish(qos: .atLeastOnce, tag: 2).isEmpty)
        h.now = .milliseconds(900)
        #expect(h.packets(h.session.tick(now: h.now)).isEmpty)
        let afterConnAck = h.packets(h.receive(.connack(ConnAckPacket(sessionPresent: false))))
        #expect(afterConnAck.allSatisfy { if case .publish = $0 { true } else { false } })
        #expect(afterConnAck.count == 2)
    }

    @Test(
        "v5: AUTH without an Authentication Method is a protocol error; the client never sends AUTH [MQTT-4.12.0-7] [MQTT-3.1.2-30]"
    )
    func unexpectedAuth() {
        var h = Harness(Harness.config(.v5))
        h.connect()
        let actions = h.receive(.auth(AuthPacket(reasonCode: .continueAuthentication)))
        #expect(h.packets(actions) == [.disconnect(DisconnectPacket(reasonCode: .protocolError))])
        #expect(h.closes(actions) == [.protocolError])
    }
}
