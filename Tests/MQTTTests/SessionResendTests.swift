import MQTT
import Testing

@Suite("ClientSession: session resumption and resend")
struct SessionResendTests {
    /// Three messages in flight: QoS 1 (id a), QoS 2 after PUBREC (id b, PUBREL pending), QoS 2 unacked (id c).
    func prepared(_ version: MQTTVersion) -> (Harness, [UInt16]) {
        var h = Harness(Harness.config(version))
        h.connect()
        let a = h.publishes(h.publish("m1", qos: .atLeastOnce, tag: 1)).first?.packetID ?? 0
        let b = h.publishes(h.publish("m2", qos: .exactlyOnce, tag: 2)).first?.packetID ?? 0
        let c = h.publishes(h.publish("m3", qos: .exactlyOnce, tag: 3)).first?.packetID ?? 0
        _ = h.receive(.pubrec(AckPacket(packetID: b)))
        _ = h.publish("later", qos: .atLeastOnce, tag: 4)  // sent too, then lost with the connection
        let lost = h.session.connectionLost()
        #expect(lost == [])
        #expect(h.session.inFlightCount == 4)
        return (h, [a, b, c])
    }

    @Test(
        "Session Present 1: unacked PUBLISH with DUP=1 and original ids, and PUBREL, in original order, before new messages [MQTT-4.4.0-1] [MQTT-3.3.1-1] [MQTT-4.6.0-1] [MQTT-2.3.1-3]",
        arguments: [MQTTVersion.v3_1_1, .v5]
    )
    func resendOnSessionPresent(version: MQTTVersion) {
        var (h, ids) = prepared(version)
        _ = h.publish("new", qos: .atLeastOnce, tag: 5)  // queued while offline
        let actions = h.connect(sessionPresent: true)
        let sent = h.packets(actions)
        #expect(sent.count == 5)
        guard sent.count == 5 else { return }
        #expect(
            sent[0]
                == .publish(
                    PublishPacket(topic: "m1", payload: bytes("p"), qos: .atLeastOnce, dup: true, packetID: ids[0])
                )
        )
        #expect(sent[1] == .pubrel(AckPacket(packetID: ids[1])))  // never the PUBLISH again [MQTT-4.3.3-6]
        #expect(
            sent[2]
                == .publish(
                    PublishPacket(topic: "m3", payload: bytes("p"), qos: .exactlyOnce, dup: true, packetID: ids[2])
                )
        )
        guard case .publish(let later) = sent[3], case .publish(let fresh) = sent[4] else {
            Issue.record("expected PUBLISHes, got \(sent)")
            return
        }
        #expect(later.topic == "later" && later.dup)
        #expect(fresh.topic == "new" && !fresh.dup)
        #expect(!(ids + [later.packetID ?? 0]).contains(fresh.packetID ?? 0))
        // The event comes first, so the caller knows the session state before the resends.
        #expect(h.events(actions).first == .connected(sessionPresent: true, ConnAckPacket(sessionPresent: true)))
    }

    @Test("QoS 2 after PUBREL: only PUBREL is ever resent, across several reconnects [MQTT-4.3.3-6]")
    func pubrelResendOnly() {
        var h = Harness(Harness.config(.v5))
        h.connect()
        let id = h.publishes(h.publish(qos: .exactlyOnce, tag: 1)).first?.packetID ?? 0
        _ = h.receive(.pubrec(AckPacket(packetID: id)))
        for _ in 0..<3 {
            _ = h.session.connectionLost()
            #expect(h.packets(h.connect(sessionPresent: true)) == [.pubrel(AckPacket(packetID: id))])
        }
        #expect(h.events(h.receive(.pubcomp(AckPacket(packetID: id)))) == [.delivered(tag: 1)])
    }

    @Test(
        "Session Present 0: in-flight messages re-sent as new (fresh ids, DUP=0) ahead of the queue [MQTT-3.2.2-5]",
        arguments: [MQTTVersion.v3_1_1, .v5]
    )
    func freshOnSessionNotPresent(version: MQTTVersion) {
        var (h, _) = prepared(version)
        _ = h.publish("new", qos: .atLeastOnce, tag: 5)
        let sent = h.publishes(h.connect(sessionPresent: false))
        #expect(sent.map(\.topic) == ["m1", "m2", "m3", "later", "new"])
        #expect(sent.allSatisfy { !$0.dup })
        #expect(Set(sent.compactMap(\.packetID)).count == 5)
        #expect(sent.map(\.qos) == [.atLeastOnce, .exactlyOnce, .exactlyOnce, .atLeastOnce, .atLeastOnce])
        #expect(!h.packets(h.connect(sessionPresent: false)).contains { if case .pubrel = $0 { true } else { false } })
    }

    @Test(
        "Clean Start=1 answered with Session Present=1 is a protocol error [MQTT-3.2.2-4]",
        arguments: [MQTTVersion.v3_1_1, .v5]
    )
    func sessionPresentAfterCleanStart(version: MQTTVersion) {
        var h = Harness(Harness.config(version, cleanStart: true))
        _ = h.session.connectionEstablished(now: .zero)
        let actions = h.receive(.connack(ConnAckPacket(sessionPresent: true)))
        #expect(h.closes(actions) == [.protocolError])
        #expect(!h.session.isConnected)
    }

    @Test("Clean Start=0 after a first session: Session Present=1 is accepted", arguments: [MQTTVersion.v3_1_1, .v5])
    func sessionPresentWithStateIsFine(version: MQTTVersion) {
        var h = Harness(Harness.config(version, cleanStart: false))
        h.connect()
        _ = h.session.connectionLost()
        let actions = h.connect(sessionPresent: true)
        #expect(h.closes(actions) == [])
        #expect(h.session.isConnected)
    }

    @Test(
        "server Receive Maximum limits the in-flight window; the rest stays queued in FIFO order [MQTT-3.3.4-7] [MQTT-4.9.0-2]"
    )
    func receiveMaximumWindow() {
        var h = Harness(Harness.config(.v5))
        h.connect(properties: ConnAckProperties(receiveMaximum: 2))
        var ids: [UInt16] = []
        for tag in UInt64(1)...5 {
            ids += h.publishes(h.publish("m\(tag)", qos: .atLeastOnce, tag: tag)).compactMap(\.packetID)
        }
        #expect(ids.count == 2)
        #expect(h.session.inFlightCount == 2 && h.session.queuedCount == 3)
        // QoS 0 is not held back by the quota [MQTT-3.3.4-8].
        #expect(h.publishes(h.publish("q0", qos: .atMostOnce, tag: 9)).count == 1)
        let next = h.receive(.puback(AckPacket(packetID: ids[0])))
        #expect(h.events(next) == [.delivered(tag: 1)])
        #expect(h.publishes(next).map(\.topic) == ["m3"])
        // A failed PUBACK also frees quota.
        let after = h.receive(.puback(AckPacket(packetID: ids[1], reasonCode: .unspecifiedError)))
        #expect(h.publishes(after).map(\.topic) == ["m4"])
    }

    @Test("window on resume: resends also respect Receive Maximum; quota is per connection")
    func windowOnResume() {
        var h = Harness(Harness.config(.v5))
        h.connect()
        for tag in UInt64(1)...3 { _ = h.publish("m\(tag)", qos: .atLeastOnce, tag: tag) }
        _ = h.session.connectionLost()
        let resent = h.publishes(h.connect(sessionPresent: true, properties: ConnAckProperties(receiveMaximum: 1)))
        #expect(resent.map(\.topic) == ["m1"])
        #expect(resent.first?.dup == true)
        let next = h.publishes(h.receive(.puback(AckPacket(packetID: resent.first?.packetID ?? 0))))
        #expect(next.map(\.topic) == ["m2"])
        #expect(next.first?.dup == true)
    }

    @Test("snapshot round trip: restored ids are resent and never reused for new messages [MQTT-2.2.1-3]")
    func snapshotRestore() {
        var h = Harness(Harness.config(.v5))
        h.connect()
        let a = h.publishes(h.publish("m1", qos: .atLeastOnce, tag: 1)).first?.packetID ?? 0
        let b = h.publishes(h.publish("m2", qos: .exactlyOnce, tag: 2)).first?.packetID ?? 0
        _ = h.receive(.pubrec(AckPacket(packetID: b)))
        _ = h.receive(.publish(PublishPacket(topic: "in", payload: [], qos: .exactlyOnce, packetID: 77)))
        let snapshot = h.session.persistentState
        #expect(snapshot.inFlight.map(\.packetID) == [a, b])
        #expect(snapshot.inFlight.map(\.phase) == [.awaitingAcknowledgement, .awaitingCompletion])
        #expect(snapshot.incomingQoS2PacketIDs == [77])

        var restored = Harness(
            Harness.config(.v5),
            restoring: SessionSnapshot(
                clientID: "dev1",
                inFlight: snapshot.inFlight,
                queued: snapshot.queued,
                incomingQoS2PacketIDs: snapshot.incomingQoS2PacketIDs,
                nextPacketID: a
            )
        )  // worst case: cursor on a used id
        #expect(restored.session.persistentState.inFlight == snapshot.inFlight)
        _ = restored.publish("new", qos: .atLeastOnce, tag: 3)
        let sent = restored.packets(restored.connect(sessionPresent: true))
        #expect(sent.count == 3)
        guard sent.count == 3, case .publish(let fresh) = sent[2] else { return }
        #expect(
            sent[0]
                == .publish(PublishPacket(topic: "m1", payload: bytes("p"), qos: .atLeastOnce, dup: true, packetID: a))
        )
        #expect(sent[1] == .pubrel(AckPacket(packetID: b)))
        #expect(fresh.packetID != a && fresh.packetID != b && fresh.packetID != 0)
        // The restored incoming QoS 2 id is still deduplicated.
        let dup = restored.receive(
            .publish(PublishPacket(topic: "in", payload: [], qos: .exactlyOnce, dup: true, packetID: 77))
        )
        #expect(restored.events(dup) == [])
        #expect(restored.packets(dup) == [.pubrec(AckPacket(packetID: 77))])
    }
}
