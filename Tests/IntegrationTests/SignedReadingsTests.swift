import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Signed readings end to end: the real agent signs, a real Mosquitto carries, `mosquitto_sub` captures, `pinpost
/// verify` checks. The relay between agent and consumer is the capture itself, altered the way an intermediary
/// (broker, bridge, rule engine) can alter MQTT messages: payload, topic, properties, order, drops and copies.
@Suite("Signed readings against a real Mosquitto", .serialized, .timeLimit(.minutes(3)), .childProcessesEndWithTheTest)
struct SignedReadingsTests {
    static let signing = "[signing]\nenabled = true"

    /// A subscriber that prints MQTT 5 user properties (the detached signature) between topic and payload.
    static func capture(_ broker: TestBroker) async throws -> Subscriber {
        let logFile = broker.logFile
        return try await Subscriber(
            port: broker.port,
            identity: broker.pki.watcher(),
            folder: broker.folder,
            topic: "devices/#",
            persistentSession: "signed-watcher",
            qos: 1,
            extraArguments: ["-V", "5", "-F", "%t %P %p"]
        ) { clientID, _ in
            ((try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "").contains(
                "Received SUBSCRIBE from \(clientID)"
            )
        }
    }

    static func lines(_ output: String, _ marker: String) -> [String] {
        output.split(separator: "\n").map(String.init).filter { $0.contains(marker) }
    }

    static func verify(_ lines: [String], in folder: URL, _ arguments: [String]) async throws -> CommandResult {
        let file = folder.appendingPathComponent("capture-\(UUID().uuidString.prefix(6)).txt")
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        return try await Command.run(try Repository.agentBinary, ["verify"] + arguments + [file.path])
    }

    @Test func theChainSurvivesARestartAndABrokerOutageAndEveryRelayAttackIsNamed() async throws {
        let folder = try Repository.temporaryFolder("signed")
        let pki = try await TestPKI(in: folder)
        let broker = try await TestBroker(pki: pki)
        let subscriber = try await Self.capture(broker)
        let config = try await AgentConfig(
            deviceID: "dev-0001",
            identity: pki.device("dev-0001"),
            port: broker.port,
            extraSections: Self.signing
        ).write(to: folder)
        func readings() -> Int { Set(Self.lines(subscriber.output, "/sensors/door")).count }

        var agent = try AgentProcess(configPath: config)
        try await subscriber.wait { _ in readings() >= 6 }
        #expect(await agent.stop() == 0, "\(agent.events)")
        let firstRun = readings()
        agent = try AgentProcess(configPath: config)
        try await subscriber.wait { _ in readings() >= 10 }
        // The restarted agent continues the chain from the newest spool record, not from a new start.
        #expect(agent.log.contains("signing=on, chain from seq \(firstRun)"), "\(agent.events)")
        await broker.stop()
        try await broker.start()
        try await subscriber.wait { _ in readings() >= 28 }
        #expect(await agent.stop() == 0, "\(agent.events)")
        try await subscriber.wait { _ in Self.lines(subscriber.output, #""state":"offline""#).count >= 2 }
        subscriber.stop()

        let capture = subscriber.output.split(separator: "\n").map(String.init)
        let sensorLines = capture.filter { $0.contains("/sensors/door") }
        // MQTT 5: the JSON payload is unchanged, the signature rides in the user property `sig`.
        #expect(sensorLines.allSatisfy { $0.contains(" sig:ey") && $0.contains(#" {"sensor":"door""#) })
        let ca = ["--ca", pki.caCertificate]
        let genuine = try await Self.verify(capture, in: folder, ca)
        #expect(genuine.status == 0, "\(genuine.output)")
        #expect(genuine.output.contains("dev-0001: \(readings()) verified"), "\(genuine.output)")

        // The relay's attacks, each on the genuine capture; every one is named.
        let index = try #require(capture.firstIndex(of: sensorLines[3]))
        func attack(_ name: String, _ expected: String, _ change: (inout [String]) -> Void) async throws {
            var lines = capture
            change(&lines)
            let result = try await Self.verify(lines, in: folder, ca)
            #expect(result.status == 1, "\(name): \(result.output)")
            #expect(result.output.contains(" \(expected): "), "\(name): \(result.output)")
        }
        func edit(_ line: String, _ pattern: String, _ replacement: String) -> String {
            line.replacingOccurrences(of: pattern, with: replacement, options: .regularExpression)
        }
        try await attack("value", "modified") { $0[index] = edit($0[index], #""value":[01]"#, #""value":7"#) }
        try await attack("seq", "modified") { $0[index] = edit($0[index], #""seq":([0-9]+)"#, #""seq":9$1"#) }
        try await attack("ts", "modified") { $0[index] = edit($0[index], #""ts":"2"#, #""ts":"1"#) }
        try await attack("topic", "modified") {
            $0[index] = $0[index].replacingOccurrences(of: "/sensors/door", with: "/sensors/window")
        }
        try await attack("drop", "missing") { $0.remove(at: index) }
        try await attack("swap", "reordered") {
            let next = $0[(index + 1)...].firstIndex { $0.contains("/sensors/door") } ?? index
            $0.swapAt(index, next)
        }
        // Replayed after the stream moved on beyond the resend window (20 readings by default, --resend-window).
        try await attack("replay", "replayed") { $0.append($0[index]) }
        #expect(readings() > 3 + 20, "the replay must come more than the resend window after the original")
        await broker.stop()
    }

    @Test func anIndependentImplementationVerifiesTheAgentAndIsVerifiedByPinpost() async throws {
        let python = Repository.root.appendingPathComponent(".build/jose-venv/bin/python").path
        let script = Repository.root.appendingPathComponent("Tests/Interop/reading_proof.py").path
        #expect(
            FileManager.default.isExecutableFile(atPath: python),
            "jwcrypto's venv is missing: run board/dev/install-deps (make test does)"
        )
        guard FileManager.default.isExecutableFile(atPath: python) else { return }
        let folder = try Repository.temporaryFolder("signed-interop")
        let pki = try await TestPKI(in: folder)
        let broker = try await TestBroker(pki: pki)
        let subscriber = try await Self.capture(broker)
        let operatorKey = folder.appendingPathComponent("operator.key").path
        let operatorPublic = folder.appendingPathComponent("operator.pub").path
        try await Command.check(
            "/usr/bin/openssl",
            ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", operatorKey]
        )
        try await Command.check("/usr/bin/openssl", ["pkey", "-in", operatorKey, "-pubout", "-out", operatorPublic])
        // MQTT 5 with a detached signature, and MQTT 3.1.1 signed and encrypted to the operator.
        let detached = try AgentProcess(
            configPath: try await AgentConfig(
                deviceID: "dev-0001",
                identity: pki.device("dev-0001"),
                port: broker.port,
                extraSections: Self.signing
            ).write(to: folder)
        )
        let sealed = try AgentProcess(
            configPath: try await AgentConfig(
                deviceID: "dev-0002",
                identity: pki.device("dev-0002"),
                port: broker.port,
                protocolVersion: "3.1.1",
                extraSections: Self.signing + "\nencrypt_to = \"\(operatorPublic)\""
            ).write(to: folder)
        )
        try await subscriber.wait { _ in
            Self.lines(subscriber.output, "dev-0001/sensors").count >= 6
                && Self.lines(subscriber.output, "dev-0002/sensors").count >= 6
        }
        #expect(await detached.stop() == 0, "\(detached.events)")
        #expect(await sealed.stop() == 0, "\(sealed.events)")
        try await subscriber.wait { _ in Self.lines(subscriber.output, #""state":"offline""#).count >= 2 }
        subscriber.stop()
        let capture = subscriber.output.split(separator: "\n").map(String.init)
        #expect(!capture.contains { $0.contains("dev-0002/sensors") && $0.contains(#""sensor""#) }, "encrypted")
        let file = folder.appendingPathComponent("agents.txt")
        try (capture.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)

        // jwcrypto and cryptography verify (and decrypt) what the agent published.
        let independent = try await Command.run(
            python,
            [script, "verify", file.path, "--ca", pki.caCertificate, "--operator-key", operatorKey]
        )
        #expect(independent.status == 0, "\(independent.output)")
        #expect(independent.output.contains("verified"), "\(independent.output)")
        let ca = ["--ca", pki.caCertificate, "--operator-key", operatorKey]
        let both = try await Self.verify(capture, in: folder, ca)
        #expect(both.status == 0, "\(both.output)")

        // Readings made by jwcrypto with a device key verify with pinpost verify ...
        let third = try await pki.device("dev-0003")
        let made = try await Command.check(
            python,
            [
                script, "make", "--key", third.key, "--cert", third.certificate, "--topic",
                "devices/dev-0003/sensors/door",
                "--stream", "00000000000000c3", "--count", "3",
            ]
        ).split(separator: "\n").map(String.init)
        let accepted = try await Self.verify(capture + made, in: folder, ca)
        #expect(accepted.status == 0 && accepted.output.contains("dev-0003: 3 verified"), "\(accepted.output)")
        // ... a reading signed with that key but published as dev-0001's is forged ...
        let forged = try await Command.check(
            python,
            [
                script, "make", "--key", third.key, "--cert", third.certificate, "--topic",
                "devices/dev-0001/sensors/door",
                "--stream", "00000000000000c3", "--count", "1",
            ]
        ).split(separator: "\n").map(String.init)
        let refused = try await Self.verify(capture + made + forged, in: folder, ca)
        #expect(
            refused.status == 1 && refused.output.contains("dev-0001 seq 1 forged: signed with the key of dev-0003"),
            "\(refused.output)"
        )
        // ... and once the factory revokes dev-0003, its readings are revoked.
        let crl = folder.appendingPathComponent("ca.crl").path
        try await Command.check(Repository.pki, ["revoke", pki.caFolder, third.certificate])
        try await Command.check(Repository.pki, ["crl", pki.caFolder, crl])
        let revoked = try await Self.verify(capture + made, in: folder, ca + ["--crl", crl])
        #expect(revoked.status == 1 && revoked.output.contains("dev-0003 seq 1 revoked:"), "\(revoked.output)")
        #expect(revoked.output.contains("dev-0001: "), "\(revoked.output)")
        await broker.stop()
    }
}
