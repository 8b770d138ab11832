import MQTT
import Testing

@Suite("Robustness")
struct RobustnessTests {
    @Test("decoder buffer compaction: 20000 packets through small chunks decode in order")
    func longStream() throws {
        var stream: [UInt8] = []
        for index in 0..<20_000 {
            let id = UInt16(index % 65_535 + 1)
            try PacketEncoder.encode(.publish(PublishPacket(topic: "s/\(index % 7)", payload: [UInt8(index & 0xFF)],
                                                            qos: .atLeastOnce, packetID: id)), version: .v5, into: &stream)
        }
        var rng = SplitMix64(seed: 99)
        let packets = try decodeAll(stream, version: .v5) { _ in Int.random(in: 1...700, using: &rng) }
        #expect(packets.count == 20_000)
        guard case .publish(let last)? = packets.last else { Issue.record("no publish"); return }
        #expect(last.packetID == 20_000 && last.payload == [UInt8(19_999 & 0xFF)])
    }

    @Test("random bytes from the server never crash the session; a failure always closes", arguments: [MQTTVersion.v3_1_1, .v5])
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
}
