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

        // The registry: the factory's certificate revoked (superseded), the renewed one active.
        let rows = rig.registry.filter { $0.first == id }
        #expect(rows.map { $0[4] } == ["revoked", "active"], "\(rows)")
        #expect(rows.last?[6] == "renewal")
        #expect(rig.auditLog.contains("\"event\":\"signed\""), "\(rig.auditLog)")
        #expect(rig.auditLog.contains("\"event\":\"revoked\""), "\(rig.auditLog)")

        // The broker now refuses the old certificate (CRL reloaded on SIGHUP by pinpost-ca's crl_reload).
        let bundle = rig.factory.bundle(id)
        let refused = try await waitFor(timeout: .seconds(20)) {
            try await rig.broker.publish(bundle: bundle, topic: "devices/\(id)/old", message: "old").status != 0
        }
        #expect(refused, "the old certificate must be refused once revoked")

        // The figures: time from request to the new connection, readings during the swap.
        let figures = agent.log.split(separator: "\n").first { $0.contains("certificate renewed") } ?? ""
        print("renewal figures: \(figures)")
        await rig.stopCA()
    }
}
