import MQTT
import Testing

/// Standing subscriptions: what the application subscribed to is restored when the broker's session is not.
@Suite("Session subscriptions")
struct SessionSubscriptionTests {
    func subscribes(_ h: Harness, _ actions: [SessionAction]) -> [SubscribePacket] {
        h.packets(actions).compactMap { if case .subscribe(let packet) = $0 { packet } else { nil } }
    }

    @Test(
        "Session Present=0: the standing subscriptions are sent again, options and properties intact, before any PUBLISH",
        arguments: [MQTTVersion.v3_1_1, .v5]
    )
    func resubscribeWhenSessionLost(version: MQTTVersion) throws {
        var h = Harness(Harness.config(version))
        h.connect()
        let commands = Subscription(
            topicFilter: "devices/d/commands/#",
            qos: .exactlyOnce,
            noLocal: version == .v5,
            retainHandling: version == .v5 ? .doNotSend : .sendOnSubscribe
        )
        let properties = version == .v5 ? SubscribeProperties(subscriptionIdentifier: 7) : SubscribeProperties()
        let first = try h.session.subscribe([commands], properties: properties, now: h.now)
        #expect(
            h.events(h.receive(.suback(SubAckPacket(packetID: first.packetID, reasonCodes: [.grantedQoS2])))) == [
                .subscribed(packetID: first.packetID, [.grantedQoS2])
            ]
        )
        _ = h.publish("devices/d/sensors/s", qos: .atLeastOnce, tag: 1)  // in flight when the connection drops

        _ = h.session.connectionLost()
        let actions = h.connect(sessionPresent: false)
        let again = subscribes(h, actions)
        #expect(again.count == 1)
        #expect(again.first?.subscriptions == [commands])
        #expect(again.first?.properties == properties)
        // SUBSCRIBE comes first, then the republished reading.
        let sent = h.packets(actions)
        let subscribeAt = sent.firstIndex { if case .subscribe = $0 { true } else { false } }
        let publishAt = sent.firstIndex { if case .publish = $0 { true } else { false } }
        #expect(subscribeAt != nil && publishAt != nil && subscribeAt! < publishAt!)
        let id = try #require(again.first?.packetID)
        #expect(
            h.events(h.receive(.suback(SubAckPacket(packetID: id, reasonCodes: [.grantedQoS2])))) == [
                .resubscribed(["devices/d/commands/#"], [.grantedQoS2])
            ]
        )
        // Confirmed again: a further reconnect with Session Present=1 sends nothing.
        _ = h.session.connectionLost()
        #expect(subscribes(h, h.connect(sessionPresent: true)).isEmpty)
    }

    @Test("Session Present=1: only a subscription whose SUBACK was lost with the connection is sent again")
    func resubscribeUnconfirmedOnly() throws {
        var h = Harness(Harness.config(.v5))
        h.connect()
        let a = try h.session.subscribe([Subscription(topicFilter: "a/#")], now: h.now)
        _ = h.receive(.suback(SubAckPacket(packetID: a.packetID, reasonCodes: [.grantedQoS1])))
        _ = try h.session.subscribe([Subscription(topicFilter: "b/#")], now: h.now)  // no SUBACK before the drop
        _ = h.session.connectionLost()
        let again = subscribes(h, h.connect(sessionPresent: true))
        #expect(again.map { $0.subscriptions.map(\.topicFilter) } == [["b/#"]])
    }

    @Test("refused and unsubscribed filters are not sent again", arguments: [MQTTVersion.v3_1_1, .v5])
    func refusedAndWithdrawnStayGone(version: MQTTVersion) throws {
        var h = Harness(Harness.config(version))
        h.connect()
        let request = try h.session.subscribe(
            [
                Subscription(topicFilter: "ok/#"), Subscription(topicFilter: "denied/#"),
                Subscription(topicFilter: "later/#"),
            ],
            now: h.now
        )
        _ = h.receive(
            .suback(
                SubAckPacket(packetID: request.packetID, reasonCodes: [.grantedQoS1, .unspecifiedError, .grantedQoS1])
            )
        )
        let withdrawal = try h.session.unsubscribe(["later/#"], now: h.now)
        _ = h.receive(
            .unsuback(UnsubAckPacket(packetID: withdrawal.packetID, reasonCodes: version == .v5 ? [.success] : []))
        )
        _ = h.session.connectionLost()
        let again = subscribes(h, h.connect(sessionPresent: false))
        #expect(again.map { $0.subscriptions.map(\.topicFilter) } == [["ok/#"]])
    }

    @Test("subscribing again to a filter replaces its options; one SUBSCRIBE per set of properties on resubscription")
    func replaceAndGroup() throws {
        var h = Harness(Harness.config(.v5))
        h.connect()
        _ = try h.session.subscribe([Subscription(topicFilter: "x", qos: .atMostOnce)], now: h.now)
        _ = try h.session.subscribe([Subscription(topicFilter: "x", qos: .exactlyOnce)], now: h.now)
        _ = try h.session.subscribe(
            [Subscription(topicFilter: "y")],
            properties: SubscribeProperties(subscriptionIdentifier: 3),
            now: h.now
        )
        _ = h.session.connectionLost()
        let again = subscribes(h, h.connect(sessionPresent: false))
        #expect(again.map { $0.subscriptions.map(\.topicFilter) } == [["x"], ["y"]])
        #expect(again.first?.subscriptions.first?.qos == .exactlyOnce)
        #expect(again.last?.properties.subscriptionIdentifier == 3)
        #expect(Set(again.map(\.packetID)).count == 2 && !again.contains { $0.packetID == 0 })
    }
}
