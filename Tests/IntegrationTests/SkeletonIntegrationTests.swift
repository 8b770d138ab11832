import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// End to end against real parts: Mosquitto from Debian, PKI from provisioning/, system OpenSSL, the real binary.
@Suite(
    "Walking skeleton against a real Mosquitto",
    .serialized,
    .timeLimit(.minutes(3)),
    .childProcessesEndWithTheTest
)
struct SkeletonIntegrationTests {
    func readings(_ messages: [Subscriber.Message], device: String = "dev-0001") -> [ReadingJSON] {
        messages.filter { $0.topic == "devices/\(device)/sensors/door" }.compactMap { ReadingJSON.parse($0.payload) }
    }

    func statuses(_ messages: [Subscriber.Message], device: String = "dev-0001") -> [String] {
        messages.filter { $0.topic == "devices/\(device)/status" }.map(\.payload)
    }

    @Test(arguments: ["5", "3.1.1"])
    func readingsArriveWithContiguousSeqAndSIGTERMExitsZero(protocolVersion: String) async throws {
        let folder = try Repository.temporaryFolder("skeleton")
        let pki = try await TestPKI(in: folder)
        let broker = try await TestBroker(pki: pki)
        let subscriber = try await Subscriber(broker: broker)
        let config = try await AgentConfig(
            deviceID: "dev-0001",
            identity: pki.device("dev-0001"),
            port: broker.port,
            protocolVersion: protocolVersion
        ).write(to: folder)
        let agent = try AgentProcess(configPath: config)

        let during = try await subscriber.wait { readings($0).count >= 12 }
        #expect(readings(during).count >= 12, "agent log: \(agent.log)")
        let status = await agent.stop(signal: SIGTERM)
        #expect(status == 0, "agent log: \(agent.log)")

        let messages = try await subscriber.wait { statuses($0).last.map(StatusJSON.state) == "offline" }
        let seqs = readings(messages).map(\.seq)
        #expect(seqs.first == 1)
        #expect(seqs == Array(1...UInt64(seqs.count)), "seq must be contiguous: \(seqs)")
        #expect(statuses(messages).map(StatusJSON.state) == ["online", "offline"])
        // The agent flushed everything it took: the last seq it assigned arrived.
        let ack = try String(contentsOf: folder.appendingPathComponent("state-dev-0001/spool/ack"), encoding: .utf8)
        #expect(ack.contains("last_seq \(seqs.last ?? 0)\n"), "\(ack)")
        // Readings carry their own time and the marker for an untrusted clock.
        let first = try #require(readings(messages).first)
        #expect(first.ts.count == 24 && first.ts.hasSuffix("Z"))
        // The executable's heap policy held for every thread the run had (see CPinpostHeapPolicy).
        #expect(agent.log.contains("malloc arenas arenas=1 limit=1"), "agent log: \(agent.log)")
        // Services are named, not described by reflection (that dumped every field, 7 kB, and cost ~50 M instructions).
        #expect(
            agent.log.contains(#"sl-services=["clock-step-monitor", "publisher", "device-control", "sensors"]"#),
            "agent log: \(agent.log)"
        )
        await broker.stop()
    }

    @Test func seqContinuesAcrossRestarts() async throws {
        let folder = try Repository.temporaryFolder("restart")
        let pki = try await TestPKI(in: folder)
        let broker = try await TestBroker(pki: pki)
        let subscriber = try await Subscriber(broker: broker)
        let config = try await AgentConfig(deviceID: "dev-0001", identity: pki.device("dev-0001"), port: broker.port)
            .write(
                to: folder
            )

        for run in 1...2 {
            let agent = try AgentProcess(configPath: config)
            try await subscriber.wait { readings($0).count >= run * 5 }
            #expect(await agent.stop() == 0, "agent log: \(agent.log)")
            try await subscriber.wait { statuses($0).count >= run * 2 }
            if run == 2 {
                // The restarted agent resumes the broker's session rather than being told it has none.
                #expect(agent.log.contains("resuming the MQTT session of the last run"), "\(agent.log)")
                #expect(agent.log.contains("session_present=true"), "\(agent.log)")
                #expect(!agent.log.contains("MQTT-3.2.2-4"), "\(agent.log)")
            }
        }
        let seqs = readings(subscriber.messages).map(\.seq)
        #expect(seqs == Array(1...UInt64(seqs.count)), "seq must continue without a gap or repeat: \(seqs)")
        await broker.stop()
    }

    @Test func willAnnouncesOfflineWhenTheAgentIsKilled() async throws {
        let folder = try Repository.temporaryFolder("will")
        let pki = try await TestPKI(in: folder)
        let broker = try await TestBroker(pki: pki)
        let subscriber = try await Subscriber(broker: broker, topic: "devices/dev-0001/status")
        let config = try await AgentConfig(deviceID: "dev-0001", identity: pki.device("dev-0001"), port: broker.port)
            .write(
                to: folder
            )
        let agent = try AgentProcess(configPath: config)
        try await subscriber.wait { $0.count >= 1 }
        _ = await agent.stop(signal: SIGKILL)
        let messages = try await subscriber.wait { $0.count >= 2 }
        #expect(messages.map(\.payload).map(StatusJSON.state) == ["online", "offline"], "agent log: \(agent.log)")
        #expect(messages.last?.payload == #"{"state":"offline"}"#, "the Will is the plain offline message")
        // Retained: a subscriber arriving later learns the device is offline.
        let late = try await Subscriber(broker: broker, topic: "devices/dev-0001/status")
        #expect(try await late.wait { !$0.isEmpty }.map(\.payload) == [#"{"state":"offline"}"#])
        await broker.stop()
    }

    @Test func aclRefusesPublishingOutsideTheDeviceNamespace() async throws {
        let folder = try Repository.temporaryFolder("acl")
        let pki = try await TestPKI(in: folder)
        let broker = try await TestBroker(pki: pki)
        let subscriber = try await Subscriber(broker: broker)
        let device = try await pki.device("dev-0001")
        func publish(_ topic: String, _ payload: String) async throws {
            try await Command.check(
                "/usr/bin/mosquitto_pub",
                [
                    "-h", "localhost", "-p", "\(broker.port)", "--cafile", device.trustAnchor,
                    "--cert", device.certificate, "--key", device.key, "-q", "1", "-t", topic, "-m", payload,
                ]
            )
        }
        try await publish("devices/dev-0002/sensors/door", "intruder")
        try await publish("devices/dev-0001/sensors/door", "own")
        let messages = try await subscriber.wait { $0.contains { $0.payload == "own" } }
        #expect(messages.map(\.payload) == ["own"], "only the device's own namespace may be written")
        await broker.stop()
    }

    @Test func checkPassesAgainstAGoodBroker() async throws {
        let folder = try Repository.temporaryFolder("check-good")
        let pki = try await TestPKI(in: folder)
        let broker = try await TestBroker(pki: pki)
        let config = try await AgentConfig(deviceID: "dev-0001", identity: pki.device("dev-0001"), port: broker.port)
            .write(
                to: folder
            )
        let result = try await Command.run(try Repository.agentBinary, ["check", "--config", config])
        #expect(result.status == 0, "\(result.output)")
        for name in ["config", "key file", "certificates", "clock", "tls handshake", "mqtt connect"] {
            #expect(result.output.contains("PASS \(name):"), "\(name) missing in: \(result.output)")
        }
        // The probe left no session behind: the agent's first start (no session state yet) is not offered one it
        // would have to refuse [MQTT-3.2.2-4].
        let agent = try AgentProcess(configPath: config)
        #expect(try await waitFor { agent.log.contains("MQTT connected") }, "\(agent.log)")
        #expect(await agent.stop() == 0)
        #expect(
            agent.log.contains("session_present=false") && !agent.log.contains("MQTT protocol error"),
            "\(agent.log)"
        )
        // Both ended with a DISCONNECT that reached the broker (the probe's was once lost when `pinpost check`
        // exited before its event loop wrote it, and the agent was then offered the probe's session). Counted once
        // the broker has read both connections to their end, so a DISCONNECT it has not processed yet cannot be
        // missed.
        #expect(try await broker.waitUntilClosedConnectionsAreRead(), "the broker read both connections to the end")
        let disconnects = broker.log.components(separatedBy: "Received DISCONNECT from dev-0001").count - 1
        #expect(disconnects == 2, "probe and agent each sent DISCONNECT: \(broker.log.suffix(2000))")
        await broker.stop()
    }

    @Test func checkRefusesABrokerCertificateForAnotherHost() async throws {
        let folder = try Repository.temporaryFolder("check-host")
        let pki = try await TestPKI(in: folder)
        let wrongHost = try await pki.server("wrong-host", hosts: ["broker.example.net"])
        let broker = try await TestBroker(pki: pki, server: wrongHost)
        let config = try await AgentConfig(deviceID: "dev-0001", identity: pki.device("dev-0001"), port: broker.port)
            .write(
                to: folder
            )
        let result = try await Command.run(try Repository.agentBinary, ["check", "--config", config])
        #expect(result.status == 1)
        #expect(result.output.contains("FAIL tls handshake"), "\(result.output)")
        #expect(result.output.contains("hostname mismatch: expected 'localhost'"), "\(result.output)")
        #expect(
            result.output.contains("DNS:broker.example.net"),
            "the refusal names what the certificate carries: \(result.output)"
        )
        #expect(result.output.contains("FAIL mqtt connect: skipped"), "\(result.output)")
        // No MQTT byte reached the broker: it never saw a CONNECT. Looked at once the broker has read the check's
        // connection to its end, so a CONNECT still in its socket cannot be missed.
        #expect(try await broker.waitUntilClosedConnectionsAreRead(), "the broker read the check's connection")
        let log = broker.log
        #expect(!log.contains("New client connected"), "\(log)")
        await broker.stop()
    }

    @Test func runRefusesADeviceIDThatIsNotTheCertificateCN() async throws {
        let folder = try Repository.temporaryFolder("cn")
        let pki = try await TestPKI(in: folder)
        let config = try await AgentConfig(deviceID: "dev-0001", identity: pki.device("dev-0002"), port: 1).write(
            to: folder
        )
        let result = try await Command.run(
            try Repository.agentBinary,
            ["run", "--config", config],
            timeout: .seconds(20)
        )
        #expect(result.status == 78)
        #expect(result.output.contains("device.id 'dev-0001' does not match the CN 'dev-0002'"), "\(result.output)")
    }

    @Test func runRefusesAKeyOthersCanRead() async throws {
        let folder = try Repository.temporaryFolder("keymode")
        let pki = try await TestPKI(in: folder)
        let identity = try await pki.device("dev-0001")
        chmod(identity.key, 0o644)
        let config = try AgentConfig(deviceID: "dev-0001", identity: identity, port: 1).write(to: folder)
        let result = try await Command.run(
            try Repository.agentBinary,
            ["run", "--config", config],
            timeout: .seconds(20)
        )
        #expect(result.status == 77)
        #expect(result.output.contains("chmod 600"), "\(result.output)")
    }

    @Test func malformedConfigExits78NamingFileAndKey() async throws {
        let folder = try Repository.temporaryFolder("badconfig")
        let path = folder.appendingPathComponent("pinpost.toml").path
        try "[device]\nid = \"dev-0001\"\n[broker]\nhost = \"localhost\"\nprot = 8883\n".write(
            toFile: path,
            atomically: true,
            encoding: .utf8
        )
        let result = try await Command.run(
            try Repository.agentBinary,
            ["run", "--config", path],
            timeout: .seconds(20)
        )
        #expect(result.status == 78)
        #expect(result.output.contains("\(path): broker.prot: unknown key"), "\(result.output)")
    }
}
