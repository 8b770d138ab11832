import MQTT
import Testing

@Suite("ClientSession: connect and publish")
struct SessionPublishTests {
    @Test(
        "connect sends CONNECT with configured fields; CONNACK reports connected",
        arguments: [MQTTVersion.v3_1_1, .v5]
    )
    func connect(version: MQTTVersion) {
        var h = Harness(Harness.config(version, keepAlive: .seconds(30)))
        let sent = h.packets(h.session.connectionEstablished(now: .zero))
        guard case .connect(let connect)? = sent.first else {
            Issue.record("no CONNECT")
            return
        }
        #expect(connect.clientID == "dev1")
        #expect(connect.keepAlive == 30)
        #expect(connect.cleanStart == false)
        #expect(connect.properties.sessionExpiryInterval == (version == .v5 ? 3600 : nil))
        #expect(!h.session.isConnected)
        let actions = h.receive(.connack(ConnAckPacket(sessionPresent: false)))
        #expect(h.events(actions) == [.connected(sessionPresent: false, ConnAckPacket(sessionPresent: false))])
        #expect(h.session.isConnected)
    }

    @Test("v3.1.1 empty client identifier forces Clean Session [MQTT-3.1.3-7]")
    func emptyClientIDv3() {
        var h = Harness(ClientSession.Configuration(clientID: "", version: .v3_1_1, keepAlive: .seconds(10)))
        guard case .connect(let connect)? = h.packets(h.session.connectionEstablished(now: .zero)).first else {
            Issue.record("no CONNECT")
            return
        }
        #expect(connect.cleanStart)
    }

    @Test("v5 Assigned Client Identifier is adopted [MQTT-3.2.2-16]")
    func assignedClientID() {
        var h = Harness(ClientSession.Configuration(clientID: "", version: .v5, keepAlive: .seconds(10)))
        h.connect(properties: ConnAckProperties(assignedClientIdentifier: "auto-7"))
        #expect(h.session.configuration.clientID == "auto-7")
        #expect(h.session.persistentState.clientID == "auto-7")
        _ = h.session.connectionLost()
        guard case .connect(let connect)? = h.packets(h.session.connectionEstablished(now: .zero)).first else {
            Issue.record("no CONNECT")
            return
        }
        #expect(connect.clientID == "auto-7")
    }

    @Test(
        "CONNACK refusal: v3.1.1 return code 5 and v5 0x87 become connectionRefused(notAuthorized)",
        arguments: [MQTTVersion.v3_1_1, .v5]
    )
    func refused(version: MQTTVersion) {
        var h = Harness(Harness.config(version))
        _ = h.session.connectionEstablished(now: .zero)
        let actions = h.receive(.connack(ConnAckPacket(sessionPresent: false, reasonCode: .notAuthorized)))
        #expect(actions == [.event(.connectionRefused(.notAuthorized)), .close(.connectionRefused)])
        #expect(!h.session.isConnected)
    }

    @Test("QoS 0: PUBLISH without id and delivered when written [MQTT-2.3.1-5]", arguments: [MQTTVersion.v3_1_1, .v5])
    func qos0(version: MQTTVersion) {
        var h = Harness(Harness.config(version))
        h.connect()
        let actions = h.publish(qos: .atMostOnce, tag: 1)
        #expect(h.publishes(actions) == [PublishPacket(topic: "t", payload: bytes("p"), qos: .atMostOnce)])
        #expect(h.events(actions) == [.delivered(tag: 1)])
        #expect(h.session.inFlightCount == 0)
    }

    @Test(
        "QoS 1: delivered on PUBACK; ids non-zero and unique while in use [MQTT-2.3.1-1] [MQTT-2.3.1-2]",
        arguments: [MQTTVersion.v3_1_1, .v5]
    )
    func qos1(version: MQTTVersion) {
        var h = Harness(Harness.config(version))
        h.connect()
        let first = h.publishes(h.publish(qos: .atLeastOnce, tag: 1))
        let second = h.publishes(h.publish(qos: .atLeastOnce, tag: 2))
        #expect(first.count == 1 && second.count == 1)
        let id1 = first.first?.packetID ?? 0
        let id2 = second.first?.packetID ?? 0
        #expect(id1 != 0 && id2 != 0 && id1 != id2)
        #expect(first.first?.dup == false)
        #expect(h.session.inFlightCount == 2)
        #expect(h.events(h.receive(.puback(AckPacket(packetID: id2)))) == [.delivered(tag: 2)])
        #expect(h.events(h.receive(.puback(AckPacket(packetID: id1)))) == [.delivered(tag: 1)])
        #expect(h.session.inFlightCount == 0)
        // Duplicate PUBACK for a finished id is ignored.
        #expect(h.receive(.puback(AckPacket(packetID: id1))) == [])
    }

    @Test("QoS 2: PUBLISH -> PUBREC -> PUBREL -> PUBCOMP -> delivered", arguments: [MQTTVersion.v3_1_1, .v5])
    func qos2(version: MQTTVersion) {
        var h = Harness(Harness.config(version))
        h.connect()
        guard let id = h.publishes(h.publish(qos: .exactlyOnce, tag: 9)).first?.packetID else {
            Issue.record("no PUBLISH")
            return
        }
        let afterRec = h.receive(.pubrec(AckPacket(packetID: id)))
        #expect(h.packets(afterRec) == [.pubrel(AckPacket(packetID: id))])
        #expect(h.events(afterRec) == [])
        #expect(h.session.persistentState.inFlight.first?.phase == .awaitingCompletion)
        #expect(h.events(h.receive(.pubcomp(AckPacket(packetID: id)))) == [.delivered(tag: 9)])
        #expect(h.session.inFlightCount == 0)
    }

    @Test("v5 PUBACK/PUBREC with reason >= 0x80 is final: deliveryFailed, id freed, never resent [MQTT-4.4.0-2]")
    func ackFailureIsFinal() {
        var h = Harness(Harness.config(.v5))
        h.connect()
        let id1 = h.publishes(h.publish(qos: .atLeastOnce, tag: 1)).first?.packetID ?? 0
        let id2 = h.publishes(h.publish(qos: .exactlyOnce, tag: 2)).first?.packetID ?? 0
        #expect(
            h.events(h.receive(.puback(AckPacket(packetID: id1, reasonCode: .notAuthorized))))
                == [.deliveryFailed(tag: 1, .notAuthorized)]
        )
        let rec = h.receive(.pubrec(AckPacket(packetID: id2, reasonCode: .quotaExceeded)))
        #expect(h.events(rec) == [.deliveryFailed(tag: 2, .quotaExceeded)])
        #expect(h.packets(rec) == [])  // no PUBREL after a failed PUBREC
        #expect(h.session.inFlightCount == 0)
        // Nothing is resent on a resumed session.
        _ = h.session.connectionLost()
        #expect(h.packets(h.connect(sessionPresent: true)) == [])
    }

    @Test("v5 PUBACK 0x10 No matching subscribers is success")
    func noMatchingSubscribersIsSuccess() {
        var h = Harness(Harness.config(.v5))
        h.connect()
        let id = h.publishes(h.publish(qos: .atLeastOnce, tag: 3)).first?.packetID ?? 0
        #expect(
            h.events(h.receive(.puback(AckPacket(packetID: id, reasonCode: .noMatchingSubscribers)))) == [
                .delivered(tag: 3)
            ]
        )
    }

    @Test(
        "publishing while disconnected queues; sent in FIFO order after CONNACK",
        arguments: [MQTTVersion.v3_1_1, .v5]
    )
    func queuedUntilConnected(version: MQTTVersion) {
        var h = Harness(Harness.config(version))
        #expect(h.publish("a", qos: .atLeastOnce, tag: 1) == [])
        #expect(h.publish("b", qos: .atMostOnce, tag: 2) == [])
        #expect(h.publish("c", qos: .exactlyOnce, tag: 3) == [])
        #expect(h.session.queuedCount == 3)
        let actions = h.connect()
        #expect(h.publishes(actions).map(\.topic) == ["a", "b", "c"])
        #expect(h.events(actions).contains(.delivered(tag: 2)))
        #expect(h.session.queuedCount == 0)
        #expect(h.session.inFlightCount == 2)
    }

    @Test("QoS 0 messages are not kept across connectionLost")
    func qos0DroppedOnConnectionLost() {
        var h = Harness(Harness.config(.v5))
        _ = h.publish(qos: .atMostOnce, tag: 1)
        _ = h.publish(qos: .atLeastOnce, tag: 2)
        #expect(h.session.connectionLost() == [.event(.deliveryFailed(tag: 1, .unspecifiedError))])
        #expect(h.session.queuedCount == 1)
        #expect(h.session.persistentState.queued.map(\.tag) == [2])
    }

    @Test("invalid topic is refused and never queued [MQTT-3.3.2-2]")
    func invalidTopic() {
        var h = Harness(Harness.config(.v5))
        h.connect()
        for topic in ["", "a/+", "#"] {
            #expect(throws: PublishError.self) {
                try h.session.publish(topic: topic, payload: [], qos: .atLeastOnce, retain: false, tag: 1, now: .zero)
            }
        }
        #expect(throws: PublishError.self) {
            try h.session.publish(
                topic: "a",
                payload: [],
                qos: .atLeastOnce,
                retain: false,
                properties: PublishProperties(subscriptionIdentifiers: [1]),
                tag: 1,
                now: .zero
            )
        }
        #expect(h.session.queuedCount == 0 && h.session.inFlightCount == 0)
    }

    @Test(
        "graceful disconnect: DISCONNECT (v5 reason 0x00) then close; session kept",
        arguments: [MQTTVersion.v3_1_1, .v5]
    )
    func gracefulDisconnect(version: MQTTVersion) {
        var h = Harness(Harness.config(version))
        h.connect()
        _ = h.publish(qos: .atLeastOnce, tag: 1)
        let actions = h.session.disconnect(now: .seconds(1))
        #expect(h.packets(actions) == [.disconnect(DisconnectPacket(reasonCode: .normalDisconnection))])
        #expect(actions.last == .close(.clientDisconnect))
        if case .send(let raw)? = actions.first, version == .v5 { #expect(raw == [0xE0, 0x00]) }
        #expect(!h.session.isConnected)
        #expect(h.session.inFlightCount == 1)
        #expect(h.session.nextDeadline == nil)
    }

    @Test("subscribe: SUBSCRIBE with options, subscribed event on SUBACK")
    func subscribe() throws {
        var h = Harness(Harness.config(.v5))
        #expect(throws: SubscribeError.self) { try h.session.subscribe([Subscription(topicFilter: "a")], now: .zero) }
        h.connect()
        let (id, actions) = try h.session.subscribe(
            [Subscription(topicFilter: "cmd/#", qos: .atLeastOnce, noLocal: true, retainHandling: .doNotSend)],
            properties: SubscribeProperties(subscriptionIdentifier: 5),
            now: .zero
        )
        #expect(
            h.packets(actions) == [
                .subscribe(
                    SubscribePacket(
                        packetID: id,
                        subscriptions: [
                            Subscription(
                                topicFilter: "cmd/#",
                                qos: .atLeastOnce,
                                noLocal: true,
                                retainHandling: .doNotSend
                            )
                        ],
                        properties: SubscribeProperties(subscriptionIdentifier: 5)
                    )
                )
            ]
        )
        #expect(
            h.events(h.receive(.suback(SubAckPacket(packetID: id, reasonCodes: [.grantedQoS1]))))
                == [.subscribed(packetID: id, [.grantedQoS1])]
        )
        #expect(throws: SubscribeError.self) {
            try h.session.subscribe([Subscription(topicFilter: "a/#/b")], now: .zero)
        }
        let (uid, _) = try h.session.unsubscribe(["cmd/#"], now: .zero)
        #expect(
            h.events(h.receive(.unsuback(UnsubAckPacket(packetID: uid, reasonCodes: [.success]))))
                == [.unsubscribed(packetID: uid, [.success])]
        )
    }
}
