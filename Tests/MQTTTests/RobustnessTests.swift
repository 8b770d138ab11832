import MQTT
import Testing

@Suite("Robustness")
struct RobustnessTests {
    @Test("decoder buffer compaction: 20000 packets through small chunks decode in order")
    func longStream() throws {
        var stream: [UInt8] = []
        for index in 0..<20_000 {
            let id = UInt16(index % 65_535 + 1)
            try PacketEncoder.encode(
                .publish(
                    PublishPacket(
                        topic: "s/\(index % 7)",
                        payload: [UInt8(index & 0xFF)],
                        qos: .atLeastOnce,
                        packetID: id
                    )
                ),
                version: .v5,
                into: &stream
            )
        }
        var rng = SplitMix64(seed: 99)
        let packets = try decodeAll(stream, version: .v5) { _ in Int.random(in: 1...700, using: &rng) }
        #expect(packets.count == 20_000)
        guard case .publish(let last)? = packets.last else {
            Issue.record("no publish")
            return
        }
        #expect(last.packetID == 20_000 && last.payload == [UInt8(19_999 & 0xFF)])
    }

    @Test(
        "random bytes from the server never crash the session; a failure always closes",
        arguments: [MQTTVersion.v3_1_1, .v5]
    )
    func sessionFuzz(version: MQTTVersion) {
        var rng = SplitMix64(seed: 0xBEEF)
        for _ in 0..<500 {
            var h = Harness(Harness.config(version))
            h.connect()
            _ = h.publish(qos: .exactlyOnce, tag: 1)
            let input = (0..<Int.random(in: 1...40, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let actions = h.session.received(input, now: .seconds(1))
            if !h.session.isConnected {
                #expect(h.closes(actions).count == 1)
            }
            #expect(h.session.inFlightCount + h.session.queuedCount <= 1)
        }
    }

    /// A broker's check of every PUBLISH on every connection, through random publishing, acknowledgements (some
    /// late, some never), lost connections and resumed or lost sessions: an alias-only PUBLISH must name an alias
    /// bound earlier on the same connection, and aliases stay within the server's maximum [MQTT-3.3.2-7..9].
    @Test("topic aliases hold up through random traffic, windows and reconnects")
    func topicAliasesUnderRandomTraffic() {
        var rng = SplitMix64(seed: 0xA11A5)
        var configuration = Harness.config(.v5)
        configuration.maximumInFlight = 5
        var h = Harness(configuration)
        var maximum: UInt16 = 3
        var broker = NormativeTests.AliasResolver(maximum: maximum)
        var unacknowledged: [PublishPacket] = []
        func check(
            _ actions: [SessionAction],
            _ h: Harness,
            _ broker: inout NormativeTests.AliasResolver,
            _ unacknowledged: inout [PublishPacket]
        ) {
            for publish in h.publishes(actions) {
                #expect(
                    broker.resolve(publish) != nil,
                    "alias \(String(describing: publish.properties.topicAlias)) unbound or above \(broker.maximum)"
                )
                if publish.qos != .atMostOnce { unacknowledged.append(publish) }
            }
        }
        check(h.connect(properties: ConnAckProperties(topicAliasMaximum: maximum)), h, &broker, &unacknowledged)
        for step in 0..<3000 {
            switch UInt8.random(in: 0...9, using: &rng) {
            case 0...4:
                let qos = QoS(rawValue: UInt8.random(in: 0...2, using: &rng)) ?? .atMostOnce
                check(
                    h.publish("s/\(Int.random(in: 0...5, using: &rng))", qos: qos, tag: UInt64(step)),
                    h,
                    &broker,
                    &unacknowledged
                )
            case 5...7:
                guard !unacknowledged.isEmpty else { continue }
                let packet = unacknowledged.remove(at: Int.random(in: 0..<unacknowledged.count, using: &rng))
                let id = packet.packetID ?? 0
                if packet.qos == .atLeastOnce {
                    check(h.receive(.puback(AckPacket(packetID: id))), h, &broker, &unacknowledged)
                } else {
                    _ = h.receive(.pubrec(AckPacket(packetID: id)))
                    check(h.receive(.pubcomp(AckPacket(packetID: id))), h, &broker, &unacknowledged)
                }
            case 8:
                h.now += .seconds(1)
                check(h.session.tick(now: h.now), h, &broker, &unacknowledged)
            default:
                _ = h.session.connectionLost()
                unacknowledged.removeAll()
                maximum = UInt16.random(in: 0...4, using: &rng)
                broker = NormativeTests.AliasResolver(maximum: maximum)
                let present = Bool.random(using: &rng)
                check(
                    h.connect(sessionPresent: present, properties: ConnAckProperties(topicAliasMaximum: maximum)),
                    h,
                    &broker,
                    &unacknowledged
                )
            }
        }
    }
}
