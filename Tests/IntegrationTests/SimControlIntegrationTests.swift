import Foundation
import Testing

/// The simulator's live control: `pinpost sim set` from another terminal presses a button on a
/// running agent, and the reading reaches the broker.
@Suite("Simulator live control", .timeLimit(.minutes(2)), .childProcessesEndWithTheTest)
struct SimControlIntegrationTests {
    @Test func simSetDrivesALineOfTheRunningAgent() async throws {
        let folder = try Repository.temporaryFolder("sim")
        let pki = try await TestPKI(in: folder)
        let broker = try await TestBroker(pki: pki)
        let subscriber = try await Subscriber(broker: broker, topic: "devices/dev-0001/sensors/#")
        var config = AgentConfig(deviceID: "dev-0001", identity: try await pki.device("dev-0001"), port: broker.port)
        config.sensors =
            "[[sensor]]\nname = \"door\"\ntype = \"digital\"\nchip = \"gpiochip0\"\nline = 17\nsimulate = \"constant:0\""
        let path = try config.write(to: folder)
        let agent = try AgentProcess(configPath: path)
        // The initial state arrives first.
        #expect(try await !subscriber.wait { !$0.isEmpty }.isEmpty, "\(agent.log)")

        let pressed = try await Command.run(try Repository.agentBinary, ["sim", "set", "--config", path, "door", "1"])
        #expect(pressed.status == 0, "\(pressed.output)")
        let messages = try await subscriber.wait { messages in
            messages.contains { $0.payload.contains("\"value\":1,\"edge\":\"rising\"") }
        }
        #expect(
            messages.contains { $0.payload.contains("\"value\":1,\"edge\":\"rising\"") },
            "\(messages)\n\(agent.log)"
        )

        let unknown = try await Command.run(try Repository.agentBinary, ["sim", "set", "--config", path, "ghost", "1"])
        #expect(unknown.status == 1)
        #expect(unknown.output.contains("ghost"), "the error names the sensor: \(unknown.output)")
        #expect(await agent.stop() == 0)
        subscriber.stop()
        await broker.stop()
    }
}
