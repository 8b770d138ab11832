import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Certificate renewal over MQTT against real parts: Mosquitto with the generated ACL and the factory's CRL,
/// `pinpost-ca` signing with the factory CA, the agent renewing while its simulated sensors publish.
@Suite(
    "Certificate renewal and provisioning by claim",
    .serialized,
    .timeLimit(.minutes(5)),
    .childProcessesEndWithTheTest
)
struct RenewalTests {
    static let fastRenewal = """
        renew_before = "3d"
        answer_timeout = "20s"
        accept_timeout = "20s"
        """

    @Test func aCertificateThatExpiresInTwoDaysIsRenewedWhileReadingsFlowAndTheOldOneIsThenRefused() async throws {
        let rig = try await RenewalRig("renew-auto")
        let id = "dev-0001"
        let config = try await rig.device(id, days: 2, renewal: Self.fastRenewal)
        let agent = try AgentProcess(configPath: config)
        #expect(
            try await waitFor(timeout: .seconds(60)) { agent.log.contains("certificate renewed") },
            "agent: \(agent.events)\nCA: \(rig.responderLog)"
        )
        // Readings keep flowing with the new identity.
        let atRenewal = agent.newestSeq
        _ = try await rig.observer.wait { _ in (rig.seqs(id).max() ?? 0) >= atRenewal + 10 }
        #expect(await agent.stop() == 0, "\(agent.events)")
        _ = try await rig.observer.wait { _ in (rig.seqs(id).max() ?? 0) >= agent.newestSeq }
        let received = Set(rig.seqs(id))
        let missing = (1...agent.newestSeq).filter { !received.contains($0) }
        #expect(missing.isEmpty, "no seq may be missing across the swap: missing \(missing)")
        let order = rig.seqs(id).reduce(into: [UInt64]()) { if !$0.contains($1) { $0.append($1) } }
        #expect(order == order.sorted(), "readings arrive in seq order")

        // The registry: the factory's certificate revoked (superseded), the renewed one active. The CA revokes when
        // the activation notice arrives, after the device reconnected: wait for it.
        #expect(
            try await waitFor(timeout: .seconds(30)) { rig.auditLog.contains("\"event\":\"revoked\"") },
            "\(rig.auditLog)\nCA: \(rig.responderLog)"
        )
        let rows = rig.registry.filter { $0.first == id }
        #expect(rows.map { $0[4] } == ["revoked", "active"], "\(rows)")
        #expect(rows.last?[6] == "renewal")
        #expect(rig.auditLog.contains("\"event\":\"signed\""), "\(rig.auditLog)")

        // The broker now refuses the old certificate (CRL reloaded on SIGHUP by pinpost-ca's crl_reload).
        let bundle = rig.factory.bundle(id)
        let refused = try await waitFor(timeout: .seconds(20)) {
            try await rig.broker.publish(bundle: bundle, topic: "devices/\(id)/old", message: "old").status != 0
        }
        #expect(refused, "the old certificate must be refused once revoked")

        // The figures: time from request to the new connection, readings taken during the swap.
        let renewed = agent.log.split(separator: "\n").first { $0.contains("request_to_connection_ms") } ?? ""
        let taken = ISO8601DateFormatter()
        taken.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let start = agent.loggedAt("renewing the device certificate"),
            let end = agent.loggedAt("request_to_connection_ms")
        {
            let during = rig.observer.lines.filter { $0.hasPrefix("devices/\(id)/sensors/door ") }
                .compactMap { ReadingJSON.parse(String($0.drop { $0 != " " }.dropFirst())) }
                .filter { taken.date(from: $0.ts).map { $0 >= start && $0 <= end } ?? false }
            print(
                "renewal figures: \(renewed)\n  readings taken during the swap: \(during.count), seqs \(during.map(\.seq)); missing seqs overall: \(missing.count)"
            )
        }
        await rig.stopCA()
    }

    /// A copy of `config` in its folder under another name: a run of its own, with a log of its own.
    static func copy(_ config: String, as name: String) throws -> String {
        let copy = URL(fileURLWithPath: config).deletingLastPathComponent().appendingPathComponent("\(name).toml").path
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: config, toPath: copy)
        return copy
    }

    /// `pinpost renew` against the running agent (exit status and what it printed).
    static func renew(_ config: String) async throws -> CommandResult {
        try await Command.run(try Repository.agentBinary, ["renew", "--config", config], timeout: .seconds(90))
    }

    @Test func wrongAnswersAreRefusedWithTheReasonAndTheAgentKeepsItsIdentity() async throws {
        let rig = try await RenewalRig("renew-malicious", startResponder: false)
        let id = "dev-0002"
        let config = try await rig.device(id, days: 30, renewal: "renew_before = \"1d\"\nanswer_timeout = \"20s\"")
        let agent = try AgentProcess(configPath: config)
        #expect(try await waitFor { agent.log.contains("MQTT connected") }, "\(agent.events)")
        let ca = rig.factory.factory + "/ca"
        let rogue = rig.folder.appendingPathComponent("rogue-ca").path
        try await Command.check(Repository.pki, ["ca", rogue, "--cn", "Rogue CA"])

        // Each case: how the hand-played CA makes the certificate, and the refusal code the agent must give.
        let cases: [(name: String, code: String, make: (String, String) async throws -> Void)] = [
            (
                "another device's id", "other-identity",
                { csr, out in
                    try await Command.check(Repository.pki, ["device", ca, out, "--id", "dev-9999", "--csr", csr])
                }
            ),
            (
                "another CA", "untrusted-chain",
                { csr, out in
                    try await Command.check(Repository.pki, ["device", rogue, out, "--id", id, "--csr", csr])
                }
            ),
            (
                "a key the device did not make", "key-mismatch",
                { _, out in
                    try await Command.check(Repository.pki, ["device", ca, out, "--id", id])
                }
            ),
            (
                "an expired certificate", "expired",
                { csr, out in
                    try await Command.check(
                        Repository.pki,
                        [
                            "device", ca, out, "--id", id, "--csr", csr, "--not-before", "10 days ago", "--not-after",
                            "1 day ago",
                        ]
                    )
                }
            ),
            (
                "serverAuth only", "no-client-auth",
                { csr, out in
                    try await Command.check(
                        Repository.pki,
                        ["device", ca, out, "--id", id, "--csr", csr, "--eku", "serverAuth"]
                    )
                }
            ),
        ]
        var refusals: [String] = []
        for (index, wrong) in cases.enumerated() {
            let hand = try await HandAnsweredRequest(rig: rig, deviceID: id)
            async let renewal = Self.renew(config)
            let csr = try await hand.request()
            let out = rig.folder.appendingPathComponent("wrong-\(index)").path
            try await wrong.make(csr, out)
            try await hand.answer(certificateFile: out + "/device.crt")
            let result = try await renewal
            hand.stop()
            refusals.append(result.output.trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(result.status == 1, "\(wrong.name): \(result.output)")
            #expect(result.output.contains(wrong.code), "\(wrong.name): \(result.output)")
        }
        print("refusals seen:\n" + refusals.joined(separator: "\n"))

        // The identity stayed: no generation, no pending key, readings still flowing on the first connection.
        let store = rig.folder.appendingPathComponent("state-\(id)/identity").path
        let entries = try FileManager.default.contentsOfDirectory(atPath: store).filter { $0 != "control.sock" }
        #expect(entries.allSatisfy { $0 == "state" }, "\(entries)")
        let before = agent.newestSeq
        _ = try await rig.observer.wait { _ in (rig.seqs(id).max() ?? 0) >= before + 3 }
        #expect(agent.count("MQTT connected") == 1, "no reconnect happened: \(agent.events)")
        #expect(
            try await waitFor { rig.identityStates(id).count >= cases.count },
            "each failure is reported on devices/\(id)/identity: \(rig.identityStates(id))"
        )
        #expect(await agent.stop() == 0)
    }

    @Test func aNewIdentityTheBrokerRefusesIsRolledBackAndReadingsKeepFlowing() async throws {
        let rig = try await RenewalRig("renew-rollback", startResponder: false)
        let id = "dev-0006"
        // The device is told to accept certificates of a second CA that the broker does not trust: the answer passes
        // every check on the device, and the broker refuses the TLS handshake made with it.
        let other = rig.folder.appendingPathComponent("other-ca").path
        try await Command.check(Repository.pki, ["ca", other, "--cn", "Other CA"])
        let anchors = rig.folder.appendingPathComponent("renewal-anchors.pem").path
        try
            (try String(contentsOfFile: rig.factory.rootCertificate, encoding: .utf8)
            + String(contentsOfFile: other + "/ca.crt", encoding: .utf8))
            .write(toFile: anchors, atomically: true, encoding: .utf8)
        let config = try await rig.device(
            id,
            days: 30,
            renewal:
                "renew_before = \"1d\"\nanswer_timeout = \"20s\"\naccept_timeout = \"20s\"\nca_file = \"\(anchors)\""
        )
        let agent = try AgentProcess(configPath: config)
        #expect(try await waitFor { agent.log.contains("MQTT connected") }, "\(agent.events)")

        let hand = try await HandAnsweredRequest(rig: rig, deviceID: id)
        async let renewal = Self.renew(config)
        let csr = try await hand.request()
        let out = rig.folder.appendingPathComponent("issued-by-other").path
        try await Command.check(Repository.pki, ["device", other, out, "--id", id, "--csr", csr])
        try await hand.answer(certificateFile: out + "/device.crt")
        let result = try await renewal
        hand.stop()
        print("refusal seen:\n\(result.output)")
        #expect(result.status == 1, "\(result.output)")
        #expect(result.output.contains("broker-refused"), "\(result.output)")

        // Back on the factory identity: connected again, readings flow, the store names no generation.
        #expect(try await waitFor { agent.count("MQTT connected") >= 2 }, "\(agent.events)")
        let before = agent.newestSeq
        _ = try await rig.observer.wait { _ in (rig.seqs(id).max() ?? 0) >= before + 3 }
        let state = rig.folder.appendingPathComponent("state-\(id)/identity/state").path
        let stateText = (try? String(contentsOfFile: state, encoding: .utf8)) ?? ""
        #expect(!stateText.contains("\"g1\""), "the refused generation is forgotten: \(stateText)")
        #expect(
            try await waitFor { rig.identityStates(id).contains { $0.contains("\"state\":\"rolled-back\"") } },
            "devices/\(id)/identity says rolled-back: \(rig.identityStates(id))"
        )
        #expect(await agent.stop() == 0, "\(agent.events)")
        _ = try await rig.observer.wait { _ in (rig.seqs(id).max() ?? 0) >= agent.newestSeq }
        let received = Set(rig.seqs(id))
        let missing = (1...agent.newestSeq).filter { !received.contains($0) }
        #expect(missing.isEmpty, "no seq may be missing across the rollback: missing \(missing)")
        let order = rig.seqs(id).reduce(into: [UInt64]()) { if !$0.contains($1) { $0.append($1) } }
        #expect(order == order.sorted(), "readings arrive in seq order")
        // A start after the rollback uses the factory identity and connects.
        let check = try await Command.run(try Repository.agentBinary, ["check", "--config", config])
        #expect(check.status == 0, "\(check.output)")
    }

    @Test func theResponderRefusesAnUnknownDeviceAndADeviceThatAsksTooOften() async throws {
        let rig = try await RenewalRig("renew-refusals", maxRequests: 2)
        // A certificate of the factory CA that is not in the registry: the broker lets it in, the CA signs nothing.
        let stranger = try await rig.issue("dev-0404")
        let strangerConfig = try AgentConfig(
            deviceID: "dev-0404",
            identity: .init(
                certificate: stranger + "/device-chain.crt",
                key: stranger + "/device.key",
                trustAnchor: rig.factory.rootCertificate
            ),
            port: rig.broker.port,
            extraSections: "[renewal]\nrenew_before = \"1s\"\nanswer_timeout = \"20s\""
        ).write(to: rig.folder)
        let strangerAgent = try AgentProcess(configPath: strangerConfig)
        #expect(try await waitFor { strangerAgent.log.contains("MQTT connected") }, "\(strangerAgent.events)")
        let unknown = try await Self.renew(strangerConfig)
        #expect(unknown.status == 1 && unknown.output.contains("NotRegistered"), "\(unknown.output)")
        #expect(await strangerAgent.stop() == 0)

        // A registered device gets two renewals within the window, the third is throttled.
        let id = "dev-0003"
        let config = try await rig.device(id, days: 30, renewal: "renew_before = \"1s\"\nanswer_timeout = \"20s\"")
        let agent = try AgentProcess(configPath: config)
        #expect(try await waitFor { agent.log.contains("MQTT connected") }, "\(agent.events)")
        var results: [CommandResult] = []
        for _ in 0..<3 { results.append(try await Self.renew(config)) }
        #expect(results.map(\.status) == [0, 0, 1], "\(results.map(\.output))")
        #expect(results.last?.output.contains("Throttled") == true, "\(results.last?.output ?? "")")
        print("refusals seen:\n\(unknown.output)\(results.last?.output ?? "")")
        #expect(rig.auditLog.contains("\"code\":\"NotRegistered\""), "\(rig.auditLog)")
        #expect(rig.auditLog.contains("\"code\":\"Throttled\""), "\(rig.auditLog)")
        // Two renewals: the factory's certificate and the first renewed one are revoked, the last is active.
        let rows = rig.registry.filter { $0.first == id }
        #expect(
            try await waitFor {
                rig.registry.filter { $0.first == id }.map { $0[4] } == ["revoked", "revoked", "active"]
            },
            "\(rows)"
        )
        #expect(await agent.stop() == 0)
        await rig.stopCA()
    }

    @Test func aStopDeadAtEachStepOfTheSwapLeavesAnAgentThatConnects() async throws {
        // No broker reload on revocation here: see `RenewalRig.init`'s reloadBrokerOnRevocation.
        let rig = try await RenewalRig("renew-crash", reloadBrokerOnRevocation: false)
        let id = "dev-0005"
        let config = try await rig.device(
            id,
            days: 30,
            renewal: "renew_before = \"1s\"\nanswer_timeout = \"20s\"\naccept_timeout = \"20s\""
        )
        let state = rig.folder.appendingPathComponent("state-\(id)/identity/state").path
        var newest: UInt64 = 0
        var table: [String] = []
        for step in [
            "key-made", "certificate-written", "stored", "trial-recorded", "reconnecting", "accepted", "committed",
            "old-removed",
        ] {
            // Each run its own copy of the config (same folder, so the same files), so each has its own log.
            let agent = try AgentProcess(
                configPath: try Self.copy(config, as: "crash-\(step)"),
                environment: ["PINPOST_RENEWAL_CRASH_AT": step]
            )
            #expect(try await waitFor { agent.log.contains("MQTT connected") }, "\(step): \(agent.events)")
            _ = try await Self.renew(config)  // the agent dies under it
            let status = await agent.child.waitForExit(timeout: .seconds(30))
            #expect(status == 128 + SIGKILL, "\(step): the agent must stop dead there: \(agent.events)")
            newest = max(newest, agent.newestSeq)

            // Started again without the hook: it connects (with the old or the new identity) and publishes.
            let again = try AgentProcess(configPath: try Self.copy(config, as: "after-\(step)"))
            let connected = try await waitFor { again.log.contains("MQTT connected") }
            #expect(connected, "\(step): \(again.events)")
            let after = max(newest, again.newestSeq)
            #expect(
                try await waitFor { (rig.seqs(id).max() ?? 0) > after + 2 },
                "\(step): readings must flow after the restart: \(again.events)"
            )
            let stateText = (try? String(contentsOfFile: state, encoding: .utf8)) ?? "(no state)"
            let identity =
                again.log.contains("the renewed identity was accepted")
                ? "the renewed one (trial accepted)"
                : (stateText.contains("\"active\"") ? "a renewed one" : "the factory's")
            table.append("\(step): restarted, connected with \(identity)")
            #expect(await again.stop() == 0, "\(step): \(again.events)")
            newest = max(newest, again.newestSeq)
        }
        print("stop dead at each step:\n" + table.joined(separator: "\n"))
        let received = Set(rig.seqs(id))
        let missing = (1...newest).filter { !received.contains($0) }
        #expect(missing.isEmpty, "no seq missing across the stops: \(missing)")
        // What is left works: pinpost check passes with the identity the agent uses.
        let check = try await Command.run(try Repository.agentBinary, ["check", "--config", config])
        #expect(check.status == 0, "\(check.output)")
        await rig.stopCA()
    }

    @Test func aClaimBoardBecomesItsOwnDeviceAndTheClaimCannotPublishReadings() async throws {
        let rig = try await RenewalRig("renew-claim")
        let id = "dev-0042"
        try await Command.check(ProvisioningFactory.factoryTool, ["register", rig.factory.factory, "--id", id])
        let claim = try await rig.issue(RenewalRig.claimID)
        let absent = rig.folder.appendingPathComponent("no-identity-yet").path
        let config = try AgentConfig(
            deviceID: id,
            identity: .init(
                certificate: absent + "/device.crt",
                key: absent + "/device.key",
                trustAnchor: rig.factory.rootCertificate
            ),
            port: rig.broker.port,
            extraSections: """
                [renewal]
                claim_cert_file = "\(claim)/device-chain.crt"
                claim_key_file = "\(claim)/device.key"
                answer_timeout = "20s"
                renew_before = "1d"
                """
        ).write(to: rig.folder)
        let agent = try AgentProcess(configPath: config)
        #expect(
            try await waitFor { agent.log.contains("MQTT connected") },
            "\(agent.events)\nCA: \(rig.responderLog)"
        )
        #expect(agent.log.contains("obtained this device's own identity with the claim certificate"), "\(agent.events)")
        _ = try await rig.observer.wait { _ in rig.seqs(id).count >= 3 }
        #expect(rig.seqs(id).count >= 3, "the claimed device publishes as \(id)")

        // The registry records which claim produced the device.
        let rows = rig.registry.filter { $0.first == id }
        #expect(rows.map { $0[4] } == ["claimed", "active"], "\(rows)")
        #expect(rows.last?[6] == "claim:\(RenewalRig.claimID)", "\(rows)")

        // The claim identity cannot publish a reading: the broker drops it; a marker the device sends after it arrives.
        let generation = rig.folder.appendingPathComponent("state-\(id)/identity/g1").path
        func publish(cert: String, key: String, client: String, topic: String, message: String) async throws {
            _ = try await Command.run(
                "/usr/bin/mosquitto_pub",
                [
                    "-h", "localhost", "-p", "\(rig.broker.port)", "--cafile", rig.factory.rootCertificate,
                    "--cert", cert, "--key", key, "-i", client, "-V", "mqttv5", "-q", "1", "-t", topic, "-m", message,
                ],
                timeout: .seconds(20)
            )
        }
        try await publish(
            cert: claim + "/device-chain.crt",
            key: claim + "/device.key",
            client: "claim-attempt",
            topic: "devices/\(id)/sensors/door",
            message: "from-the-claim"
        )
        try await publish(
            cert: generation + "/device.crt",
            key: generation + "/device.key",
            client: "marker-\(id)",
            topic: "devices/\(id)/_marker",
            message: "marker"
        )
        let lines = try await rig.observer.wait { $0.contains("devices/\(id)/_marker marker") }
        #expect(lines.contains("devices/\(id)/_marker marker"))
        #expect(!lines.contains { $0.contains("from-the-claim") }, "a claim certificate must never publish readings")
        #expect(await agent.stop() == 0)
        await rig.stopCA()
    }
}
