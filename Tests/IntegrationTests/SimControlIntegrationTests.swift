import Foundation
import Testing

/// The simulator's live control: `pinpost sim set` from another terminal presses a button on a
/// running agent, and the reading reaches the broker.
@Suite("Simulator live control", .timeLimit(.minutes(2)))
struct SimControlIntegrationTests {
    @Test func simSetDrivesALineOfTheRunningAgent() throws {
        let folder = try Repository.temporaryFolder("sim")
        let pki = try TestPKI(in: folder)
        let broker = try TestBroker(pki: pki)
        defer { broker.stop() }
        let subscriber = try Subscriber(broker: broker, topic: "devices/dev-0001/sensors/#")
        var config = AgentConfig(deviceID: "dev-0001", identity: try pki.device("dev-0001"), port: broker.port)
        config.sensors =
            "[[sensor]]\nname = \"door\"\ntype = \"digital\"\nchip = \"gpiochip0\"\nline = 17\nsimulate = \"constant:0\""
        let path = try config.write(to: folder)
        let agent = try AgentProcess(configPath: path)
        defer { _ = agent.stop() }
        // The initial state arrives first.
        #expect(!subscriber.wait { !$0.isEmpty }.isEmpty, "\(agent.log)")

        let pressed = try Command.run(try Repository.agentBinary, ["sim", "set", "--config", path, "door", "1"])
        #expect(pressed.status == 0, "\(pressed.output)")
        let messages = subscriber.wait { messages in
            messages.contains { $0.payload.contains("\"value\":1,\"edge\":\"rising\"") }
        }
        #expect(
            messages.contains { $0.payload.contains("\"value\":1,\"edge\":\"rising\"") },
            "\(messages)\n\(agent.log)"
        )

        let unknown = try Command.run(try Repository.agentBinary, ["sim", "set", "--config", path, "ghost", "1"])
        #expect(unknown.status == 1)
        #expect(unknown.output.contains("ghost"), "the error names the sensor: \(unknown.output)")
        #expect(agent.stop() == 0)
    }
}
