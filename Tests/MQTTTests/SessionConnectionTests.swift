import MQTT
import Testing

@Suite("ClientSession: keep alive, limits, server packets")
struct SessionConnectionTests {
    @Test(
        "PINGREQ after Keep Alive of silence; PINGRESP clears it [MQTT-3.1.2-23] [MQTT-3.1.2-20]",
        arguments: [MQTTVersion.v3_1_1, .v5]
    )
    func keepAlivePing(version: MQTTVersion) {
        var h = Harness(Harness.config(version, keepAlive: .seconds(30), pingTimeout: .seconds(5)))
        h.connect()
        #expect(h.session.nextDeadline == .seconds(30))
        #expect(h.session.tick(now: .seconds(29)) == [])
        let ping = h.session.tick(now: .seconds(30))
        #expect(h.packets(ping) == [.pingreq])
        #expect(h.session.nextDeadline == .seconds(35))
        h.now = .seconds(32)
        #expect(h.receive(.pingresp) == [])
        #expect(h.session.nextDeadline == .seconds(60))
        #expect(h.session.tick(now: .seconds(59)) == [])
    }

    @Test(
        "a publishing client still pings when the broker stays silent: a half-open link is found within Keep Alive + ping timeout"
    )
    func silentBrokerIsProbedWhilePublishing() {
        var h = Harness(Harness.config(.v5, keepAlive: .seconds(10), pingTimeout: .seconds(5)))
        h.connect()
        // QoS 0 every second: the client is never idle, but nothing comes back.
        for second in 1...9 {
            h.now = .seconds(Int64(second))
            _ = h.publish(qos: .atMostOnce, tag: UInt64(second))
            #expect(h.session.tick(now: h.now) == [])
        }
        #expect(h.packets(h.session.tick(now: .seconds(10))) == [.pingreq])
        #expect(h.session.tick(now: .seconds(15)) == [.close(.keepAliveTimeout)])
    }

    @Test("traffic from the broker postpones the ping")
    func brokerTrafficPostponesPing() {
        var h = Harness(Harness.config(.v5, keepAlive: .seconds(10), pingTimeout: .seconds(5)))
        h.connect()
        h.now = .seconds(8)
        _ = h.publish(qos: .atLeastOnce, tag: 1)
        h.now = .seconds(9)
        _ = h.receive(.puback(AckPacket(packetID: 1)))
        #expect(h.session.nextDeadline == .seconds(18))
        #expect(h.session.tick(now: .seconds(17)) == [])
    }

    @Test("no PINGRESP within pingTimeout closes with keepAliveTimeout", arguments: [MQTTVersion.v3_1_1, .v5])
    func keepAliveTimeout(version: MQTTVersion) {
        var h = Harness(Harness.config(version, keepAlive: .seconds(10), pingTimeout: .seconds(3)))
        h.connect()
        _ = h.publish(qos: .atLeastOnce, tag: 1)
        #expect(h.packets(h.session.tick(now: .seconds(10))) == [.pingreq])
        #expect(h.session.tick(now: .milliseconds(12_999)) == [])
        #expect(h.session.tick(now: .seconds(13)) == [.close(.keepAliveTimeout)])
        #expect(!h.session.isConnected)
        #expect(h.session.inFlightCount == 1)  // kept for resend
        #expect(h.session.nextDeadline == nil)
    }

    @Test("Keep Alive 0 disables pings")
    func keepAliveOff() {
        var h = Harness(Harness.config(.v5, keepAlive: .zero))
        h.connect()
        #expect(h.session.nextDeadline == nil)
        #expect(h.session.tick(now: .seconds(10_000)) == [])
    }

    @Test("v5 Server Keep Alive replaces ours [MQTT-3.1.2-21]")
    func serverKeepAlive() {
        var h = Harness(Harness.config(.v5, keepAlive: .seconds(60)))
        h.connect(properties: ConnAckProperties(serverKeepAlive: 15))
        #expect(h.session.nextDeadline == .seconds(15))
        #expect(h.packets(h.session.tick(now: .seconds(15))) == [.pingreq])
    }

    @Test("CONNACK must arrive within connAckTimeout, not pingTimeout", arguments: [MQTTVersion.v3_1_1, .v5])
    func connAckTimeout(version: MQTTVersion) {
        var configuration = Harness.config(version, pingTimeout: .seconds(4))
        configuration.connAckTimeout = .seconds(7)
        var h = Harness(configuration)
        _ = h.session.connectionEstablished(now: .seconds(100))
        #expect(h.session.nextDeadline == .seconds(107))
        #expect(h.session.tick(now: .seconds(104)) == [])
        #expect(h.session.tick(now: .seconds(106)) == [])
        #expect(h.session.tick(now: .seconds(107)) == [.close(.connAckTimeout)])
        #expect(h.session.received([0x20, 0x02, 0x00, 0x00], now: .seconds(105)) == [])  // late CONNACK ignored
    }

    @Test("v5 DISCONNECT 0x8E Session taken over is reported distinctly")
    func sessionTakenOver() {
        var h = Harness(Harness.config(.v5))
        h.connect()
        let actions = h.receive(.disconnect(DisconnectPacket(reasonCode: .sessionTakenOver)))
        #expect(actions == [.event(.disconnectedByServer(.sessionTakenOver)), .close(.serverDisconnect)])
        #expect(!h.session.isConnected)
    }

    @Test("server Maximum Packet Size: a larger PUBLISH is refused and never sent [MQTT-3.2.2-15]")
    func maximumPacketSize() {
        var h = Harness(Harness.config(.v5))
        h.connect(properties: ConnAckProperties(maximumPacketSize: 64))
        do {
            _ = try h.session.publish(
                topic: "t",
                payload: Array(repeating: 1, count: 100),
                qos: .atLeastOnce,
                retain: false,
                tag: 1,
                now: .zero
            )
            Issue.record("expected packetTooLarge")
        } catch {
            #expect(error.code == .packetTooLarge)
        }
        #expect(h.session.inFlightCount == 0 && h.session.queuedCount == 0)
        #expect(h.publishes(h.publish(qos: .atLeastOnce, tag: 2)).count == 1)
    }

    @Test("a queued message too large for the new server fails at send time instead of being sent")
    func maximumPacketSizeQueued() {
        var h = Harness(Harness.config(.v5))
        _ = try? h.session.publish(
            topic: "t",
            payload: Array(repeating: 1, count: 100),
            qos: .atLeastOnce,
            retain: false,
            tag: 1,
            now: .zero
        )
        let actions = h.connect(properties: ConnAckProperties(maximumPacketSize: 64))
        #expect(h.publishes(actions) == [])
        #expect(h.events(actions).last == .deliveryFailed(tag: 1, .packetTooLarge))
    }

    @Test("a message checked against one connection's limits is checked again against the next connection's")
    func limitsCheckedPerConnection() {
        var h = Harness(Harness.config(.v5))
        // Receive Maximum 1: the second and third messages wait in the queue, checked against 1 KiB.
        h.connect(properties: ConnAckProperties(receiveMaximum: 1, maximumPacketSize: 1024))
        #expect(h.publishes(h.publish("a", String(repeating: "x", count: 10), qos: .atLeastOnce, tag: 1)).count == 1)
        #expect(h.publishes(h.publish("b", String(repeating: "y", count: 100), qos: .atLeastOnce, tag: 2)).isEmpty)
        #expect(h.publishes(h.publish("c", String(repeating: "z", count: 10), qos: .atLeastOnce, tag: 3)).isEmpty)
        _ = h.session.connectionLost()
        // The next server takes 64 bytes at most: "b" no longer fits, the others still go, in order.
        let actions = h.connect(
            sessionPresent: true,
            properties: ConnAckProperties(receiveMaximum: 10, maximumPacketSize: 64)
        )
        #expect(h.publishes(actions).map(\.topic) == ["a", "c"])
        #expect(h.events(actions).contains(.deliveryFailed(tag: 2, .packetTooLarge)))
        // Checked on this connection, queued behind the window, sent unchanged once the window opens.
        var small = Harness(Harness.config(.v5))
        small.connect(properties: ConnAckProperties(receiveMaximum: 1, maximumQoS: .atLeastOnce))
        let first = small.publishes(small.publish("d", qos: .exactlyOnce, tag: 4))
        #expect(first.map(\.qos) == [.atLeastOnce])
        #expect(small.publishes(small.publish("e", qos: .exactlyOnce, tag: 5)).isEmpty)
        let released = small.receive(.puback(AckPacket(packetID: first.first?.packetID ?? 0)))
        #expect(small.publishes(released).map(\.qos) == [.atLeastOnce])
        #expect(small.publishes(released).map(\.topic) == ["e"])
    }

    @Test("server Maximum QoS: downgrade (default) or refuse [MQTT-3.2.2-11]; Retain Available=0 [MQTT-3.2.2-14]")
    func maximumQoSAndRetain() {
        var h = Harness(Harness.config(.v5))
        h.connect(properties: ConnAckProperties(maximumQoS: .atLeastOnce, retainAvailable: false))
        #expect(h.publishes(h.publish(qos: .exactlyOnce, tag: 1)).map(\.qos) == [.atLeastOnce])
        #expect(throws: PublishError.self) {
            try h.session.publish(topic: "t", payload: [], qos: .atMostOnce, retain: true, tag: 2, now: .zero)
        }

        var config = Harness.config(.v5)
        config.qosAboveMaximum = .refuse
        var strict = Harness(config)
        strict.connect(properties: ConnAckProperties(maximumQoS: .atMostOnce))
        do {
            _ = try strict.session.publish(
                topic: "t",
                payload: [],
                qos: .atLeastOnce,
                retain: false,
                tag: 3,
                now: .zero
            )
            Issue.record("expected qosNotSupported")
        } catch {
            #expect(error.code == .qosNotSupported)
        }
    }

    @Test("incoming QoS 1 is acknowledged with PUBACK [MQTT-4.5.0-2]", arguments: [MQTTVersion.v3_1_1, .v5])
    func incomingQoS1(version: MQTTVersion) {
        var h = Harness(Harness.config(version))
        h.connect()
        let message = PublishPacket(topic: "cmd", payload: [1], qos: .atLeastOnce, packetID: 5)
        let actions = h.receive(.publish(message))
        #expect(h.events(actions) == [.messageReceived(message)])
        #expect(h.packets(actions) == [.puback(AckPacket(packetID: 5))])
    }

    @Test(
        "incoming QoS 2 is delivered exactly once: PUBREC, duplicate ignored, PUBREL -> PUBCOMP",
        arguments: [MQTTVersion.v3_1_1, .v5]
    )
    func incomingQoS2(version: MQTTVersion) {
        var h = Harness(Harness.config(version))
        h.connect()
        let message = PublishPacket(topic: "cmd", payload: [1], qos: .exactlyOnce, packetID: 6)
        let first = h.receive(.publish(message))
        #expect(h.events(first) == [.messageReceived(message)])
        #expect(h.packets(first) == [.pubrec(AckPacket(packetID: 6))])
        // Redelivery (also after a reconnect with session present) is acknowledged but not delivered again.
        _ = h.session.connectionLost()
        h.connect(sessionPresent: true)
        var redelivered = message
        redelivered.dup = true
        let second = h.receive(.publish(redelivered))
        #expect(h.events(second) == [])
        #expect(h.packets(second) == [.pubrec(AckPacket(packetID: 6))])
        #expect(h.packets(h.receive(.pubrel(AckPacket(packetID: 6)))) == [.pubcomp(AckPacket(packetID: 6))])
        // After release the id may carry a new message.
        #expect(h.events(h.receive(.publish(message))) == [.messageReceived(message)])
    }

    @Test("protocol errors from the server close the connection [MQTT-4.8.0-1]")
    func protocolErrors() {
        // Anything but CONNACK first.
        var h = Harness(Harness.config(.v3_1_1))
        _ = h.session.connectionEstablished(now: .zero)
        #expect(h.closes(h.receive(.pingresp)) == [.protocolError])

        // Malformed bytes while connected: v5 tells the server why.
        var v5 = Harness(Harness.config(.v5))
        v5.connect()
        let actions = v5.session.received([0x30, 0xFF, 0xFF, 0xFF, 0xFF], now: .zero)
        #expect(v5.packets(actions) == [.disconnect(DisconnectPacket(reasonCode: .malformedPacket))])
        #expect(v5.closes(actions) == [.protocolError])
        guard case .event(.protocolError)? = actions.dropFirst().first else {
            Issue.record("expected protocolError event, got \(actions)")
            return
        }

        // A topic alias we never allowed.
        var alias = Harness(Harness.config(.v5))
        alias.connect()
        let aliased = alias.receive(
            .publish(
                PublishPacket(
                    topic: "x",
                    payload: [],
                    qos: .atMostOnce,
                    properties: PublishProperties(topicAlias: 1)
                )
            )
        )
        #expect(alias.packets(aliased) == [.disconnect(DisconnectPacket(reasonCode: .topicAliasInvalid))])
    }

    @Test("packets split across reads and several packets in one read are all processed")
    func streaming() throws {
        var h = Harness(Harness.config(.v5))
        h.connect()
        var stream: [UInt8] = []
        for id in UInt16(1)...3 {
            try PacketEncoder.encode(
                .publish(PublishPacket(topic: "s", payload: [UInt8(id)], qos: .atLeastOnce, packetID: id)),
                version: .v5,
                into: &stream
            )
        }
        var received: [SessionEvent] = []
        var rng = SplitMix64(seed: 7)
        var offset = 0
        while offset < stream.count {
            let size = min(Int.random(in: 1...5, using: &rng), stream.count - offset)
            received += h.events(h.session.received(Array(stream[offset..<offset + size]), now: .zero))
            offset += size
        }
        #expect(received.count == 3)
    }
}
