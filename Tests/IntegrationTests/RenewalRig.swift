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
    ///   - reloadBrokerOnRevocation: false leaves out `ca.crl_reload` (no SIGHUP to Mosquitto): Debian's Mosquitto
    ///     2.0.11 was seen to abort (`will_delay__remove: Assertion ... failed`) on a reload that came while the
    ///     same client id disconnected and reconnected, which the stop-dead test does many times in a second.
    init(
        _ name: String,
        maxRequests: Int = 20,
        startResponder: Bool = true,
        reloadBrokerOnRevocation: Bool = true
    ) async throws {
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
        \(reloadBrokerOnRevocation ? "crl_reload = [\"/bin/kill\", \"-HUP\", \"\(broker.pid)\"]" : "")

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

/// A CA the test plays itself, with the responder's identity and Debian's mosquitto clients: it takes the next
/// request of one device and answers it with whatever certificate the test makes (a wrong one, to see it refused).
struct HandAnsweredRequest {
    let rig: RenewalRig
    let deviceID: String
    private let subscriber: ChildProcess
    private let output: String
    var topic: String { "pinpost/certificates/\(deviceID)/create-from-csr/json" }
    var responder: String { rig.folder.appendingPathComponent("identity-\(RenewalRig.responderID)").path }

    /// Subscribes (as the responder) to the device's next request.
    init(rig: RenewalRig, deviceID: String) async throws {
        self.rig = rig
        self.deviceID = deviceID
        let clientID = "hand-ca-\(UUID().uuidString.prefix(6))"
        output = rig.folder.appendingPathComponent("\(clientID).out").path
        let responder = rig.folder.appendingPathComponent("identity-\(RenewalRig.responderID)").path
        subscriber = try ChildProcess(
            "/usr/bin/mosquitto_sub",
            [
                "-h", "localhost", "-p", "\(rig.broker.port)", "--cafile", rig.factory.rootCertificate,
                "--cert", responder + "/device-chain.crt", "--key", responder + "/device.key", "-i", clientID,
                "-q", "1", "-C", "1", "-t", "pinpost/certificates/\(deviceID)/create-from-csr/json",
            ],
            outputPath: output
        )
        let broker = rig.broker
        guard try await waitFor({ broker.log.contains("Received SUBSCRIBE from \(clientID)") }) else {
            subscriber.kill()
            throw HarnessError("the hand-played CA did not subscribe")
        }
    }

    /// Waits for the request and writes its CSR to a file; returns the file.
    func request() async throws -> String {
        var payload = ""
        guard
            try await waitFor(
                timeout: .seconds(30),
                {
                    payload = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
                    return payload.contains("}")
                }
            )
        else { throw HarnessError("no request from \(deviceID)") }
        let json = try JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any]
        guard let csr = json?["certificateSigningRequest"] as? String else {
            throw HarnessError("the request holds no certificateSigningRequest: \(payload)")
        }
        let file = rig.folder.appendingPathComponent("request-\(UUID().uuidString.prefix(6)).csr").path
        try csr.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    /// Publishes `certificatePem` from `certificateFile` on `<topic>/accepted`, as the responder.
    func answer(certificateFile: String) async throws {
        let pem = try String(contentsOfFile: certificateFile, encoding: .utf8)
        let json = try JSONSerialization.data(
            withJSONObject: ["certificateId": "x", "certificatePem": pem, "certificateOwnershipToken": "t"]
        )
        try await Command.check(
            "/usr/bin/mosquitto_pub",
            [
                "-h", "localhost", "-p", "\(rig.broker.port)", "--cafile", rig.factory.rootCertificate,
                "--cert", responder + "/device-chain.crt", "--key", responder + "/device.key", "-q", "1",
                "-t", topic + "/accepted", "-m", String(decoding: json, as: UTF8.self),
            ]
        )
    }

    func stop() {
        subscriber.kill()
    }
}
