import Foundation

#if canImport(Glibc)
import Glibc
#endif

extension Repository {
    /// `pinpost-ca` next to the test bundle (`swift build` builds it with `pinpost`).
    static var caBinary: String {
        get throws {
            let agent = try agentBinary
            let candidate = URL(fileURLWithPath: agent).deletingLastPathComponent().appendingPathComponent("pinpost-ca")
            guard FileManager.default.isExecutableFile(atPath: candidate.path) else {
                throw HarnessError("pinpost-ca was not found next to \(agent); run `swift build` before `swift test`")
            }
            return candidate.path
        }
    }
}

/// A factory (`pinpost-factory`), Mosquitto configured by `mosquitto-conf` with the factory's CRL and an ACL for the
/// CA responder and a claim, an observer of `devices/#`, and `pinpost-ca serve` answering requests: everything the
/// renewal tests need, made with the shipped tools.
final class RenewalRig {
    let folder: URL
    let factory: ProvisioningFactory
    let broker: ProvisioningBroker
    let observer: ProvisioningObserver
    private(set) var responder: ChildProcess?
    let responderConfig: String
    static let responderID = "pinpost-ca"
    static let claimID = "claim-line1"

    var auditLog: String { (try? String(contentsOfFile: factory.factory + "/audit.log", encoding: .utf8)) ?? "" }
    var responderLog: String { (try? String(contentsOfFile: responderConfig + ".log", encoding: .utf8)) ?? "" }
    var registry: [[String]] {
        ((try? String(contentsOfFile: factory.registry, encoding: .utf8)) ?? "").split(separator: "\n").dropFirst()
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    /// - Parameters:
    ///   - maxRequests: the responder's `requests.max_requests` per device and hour.
    ///   - startResponder: false for tests that answer requests themselves.
    init(_ name: String, maxRequests: Int = 20, startResponder: Bool = true) async throws {
        folder = try Repository.temporaryFolder(name)
        factory = try await ProvisioningFactory(in: folder)
        broker = try await ProvisioningBroker(
            factory: factory,
            aclArguments: ["--ca-responder", Self.responderID, "--claim", Self.claimID]
        )
        observer = try await ProvisioningObserver(
            broker: broker,
            bundle: try await factory.provision(ProvisioningBroker.observer, port: broker.port)
        )
        let responder = try await Self.issue(Self.responderID, factory: factory, folder: folder)
        responderConfig = folder.appendingPathComponent("pinpost-ca.toml").path
        try """
        [broker]
        host = "localhost"
        port = \(broker.port)

        [tls]
        ca_file = "\(factory.rootCertificate)"
        cert_file = "\(responder)/device-chain.crt"
        key_file = "\(responder)/device.key"

        [ca]
        factory_dir = "\(factory.factory)"
        pki = "\(Repository.pki)"
        validity = "30d"
        crl_reload = ["/bin/kill", "-HUP", "\(broker.pid)"]

        [requests]
        claims = ["\(Self.claimID)"]
        max_requests = \(maxRequests)
        window = "1h"
        """.write(toFile: responderConfig, atomically: true, encoding: .utf8)
        if startResponder { try await startCA() }
    }

    /// Starts `pinpost-ca serve` and waits until it has subscribed.
    func startCA() async throws {
        let process = try ChildProcess(
            try Repository.caBinary,
            ["serve", "--config", responderConfig, "--log-level", "debug"],
            outputPath: responderConfig + ".log"
        )
        responder = process
        guard try await waitFor({ self.responderLog.contains("answering certificate requests") || !process.isRunning })
        else {
            throw HarnessError("pinpost-ca did not start: \(responderLog)")
        }
        guard process.isRunning else { throw HarnessError("pinpost-ca exited: \(responderLog)") }
    }

    /// An identity signed by the factory CA (`pinpost-pki device`), not in the registry: the responder's, a claim's.
    func issue(_ id: String, extra: [String] = []) async throws -> String {
        try await Self.issue(id, factory: factory, folder: folder, extra: extra)
    }

    static func issue(
        _ id: String,
        factory: ProvisioningFactory,
        folder: URL,
        extra: [String] = []
    ) async throws -> String {
        let out = folder.appendingPathComponent("identity-\(id)").path
        try await Command.check(Repository.pki, ["device", factory.factory + "/ca", out, "--id", id] + extra)
        return out
    }

    /// A device provisioned by the factory (station flow) with a certificate valid for `days`, its config extended
    /// by `[renewal]` (`renewal` is the table's body), fast simulated sensors and its own state folder.
    func device(_ id: String, days: Int = 2, renewal: String) async throws -> String {
        let sensors = folder.appendingPathComponent("sensors.toml").path
        try """
        [[sensor]]
        name = "door"
        type = "digital"
        chip = "gpiochip0"
        line = 17
        simulate = "toggle:100ms"
        """.write(toFile: sensors, atomically: true, encoding: .utf8)
        let bundle = try await factory.provision(
            id,
            port: broker.port,
            extra: ["--days", "\(days)", "--spool-dir", folder.appendingPathComponent("state-\(id)").path],
            sensors: ["--gpio-backend", "simulated", "--sensors", sensors]
        )
        let config = bundle + "/pinpost.toml"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: config))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\n[renewal]\n\(renewal)\n".utf8))
        try handle.close()
        return config
    }

    /// The door readings the observer saw from `id`, in arrival order.
    func seqs(_ id: String) -> [UInt64] {
        observer.lines.filter { $0.hasPrefix("devices/\(id)/sensors/door ") }
            .compactMap { ReadingJSON.parse(String($0.drop { $0 != " " }.dropFirst()))?.seq }
    }

    /// The retained renewal results of `id` the observer saw (`devices/<id>/identity`).
    func identityStates(_ id: String) -> [String] {
        observer.lines.filter { $0.hasPrefix("devices/\(id)/identity ") }.map {
            String($0.drop { $0 != " " }.dropFirst())
        }
    }

    func stopCA() async {
        _ = await responder?.stop()
    }
}
