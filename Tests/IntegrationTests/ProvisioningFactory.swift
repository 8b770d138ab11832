import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A factory made with the shipped tools: an offline root (`pinpost-pki ca`), the factory
/// intermediate (`pinpost-factory init`), a broker certificate from the root, bundles per device.
struct ProvisioningFactory {
    let folder: URL
    var root: String { folder.appendingPathComponent("root").path }
    var factory: String { folder.appendingPathComponent("factory").path }
    var rootCertificate: String { root + "/ca.crt" }
    var crl: String { factory + "/crl.pem" }
    var registry: String { factory + "/registry.csv" }

    static var factoryTool: String { Repository.root.appendingPathComponent("provisioning/pinpost-factory").path }
    /// The installer under its old name: a thin wrapper that runs `pinpost install-bundle`.
    static var installWrapper: String {
        Repository.root.appendingPathComponent("provisioning/pinpost-install-bundle").path
    }

    /// `pinpost install-bundle` of this checkout's binary: the installer a board runs.
    static func install(_ arguments: [String]) async throws -> CommandResult {
        try await Command.run(try Repository.agentBinary, ["install-bundle"] + arguments)
    }

    init(in folder: URL) async throws {
        self.folder = folder
        try await Command.check(
            Repository.pki,
            ["ca", folder.appendingPathComponent("root").path, "--cn", "Pinpost Offline Root"]
        )
        try await Command.check(
            Self.factoryTool,
            [
                "init", folder.appendingPathComponent("factory").path, "--root",
                folder.appendingPathComponent("root").path, "--cn", "Pinpost Factory 1",
            ]
        )
    }

    func bundle(_ id: String) -> String { factory + "/bundles/" + id }

    /// The demo's simulated sensors: tests ask for the simulated backend explicitly, as a factory must.
    static let simulatedSensors = [
        "--gpio-backend", "simulated", "--sensors", Repository.root.path + "/board/dev/demo-sensors.toml",
    ]

    /// Runs `pinpost-factory device` with this checkout's pinpost binary (it writes each bundle's config).
    static func device(_ arguments: [String]) async throws -> CommandResult {
        try await Command.run(
            "/usr/bin/env",
            ["PINPOST_BIN=\(try Repository.agentBinary)", factoryTool, "device"] + arguments
        )
    }

    /// Station flow: key made at the station, travels in the bundle.
    @discardableResult
    func provision(
        _ id: String,
        port: Int,
        extra: [String] = [],
        sensors: [String] = simulatedSensors
    ) async throws -> String {
        let result = try await Self.device(
            [factory, "--id", id, "--broker-host", "localhost", "--broker-port", "\(port)", "--no-require-sync"]
                + sensors + extra
        )
        guard result.status == 0 else {
            throw HarnessError("pinpost-factory device exited \(result.status): \(result.output)")
        }
        return bundle(id)
    }

    func revoke(_ id: String) async throws {
        try await Command.check(Self.factoryTool, ["revoke", factory, "--id", id])
    }

    /// The broker's certificate, issued by the offline root for localhost.
    func serverIdentity() async throws -> (certificate: String, key: String) {
        let out = folder.appendingPathComponent("broker-server").path
        if !FileManager.default.fileExists(atPath: out + "/server.crt") {
            try await Command.check(
                Repository.pki,
                ["server", root, out, "--host", "localhost", "--host", "127.0.0.1"]
            )
        }
        return (out + "/server.crt", out + "/server.key")
    }
}

/// Mosquitto configured entirely by `provisioning/mosquitto-conf`, trusting the offline root, with the
/// factory's CRL and the generated ACL plus one read-only observer.
final class ProvisioningBroker {
    let factory: ProvisioningFactory
    let folder: URL
    let port: Int
    let configFile: String
    private var process: ChildProcess
    static let observer = "observer"

    var logFile: String { folder.appendingPathComponent("data/mosquitto.log").path }
    var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

    /// - Parameter aclArguments: more `mosquitto-conf acl` options (`--ca-responder`, `--claim`).
    init(factory: ProvisioningFactory, aclArguments: [String] = []) async throws {
        self.factory = factory
        folder = factory.folder.appendingPathComponent("broker")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let acl = folder.appendingPathComponent("acl").path
        try await Command.check(
            Repository.mosquittoConf,
            ["acl", "--observer", Self.observer, "--out", acl] + aclArguments
        )
        let server = try await factory.serverIdentity()
        port = try Loopback.freePort()
        configFile = folder.appendingPathComponent("mosquitto.conf").path
        try await Command.check(
            Repository.mosquittoConf,
            [
                "--port", "\(port)", "--cafile", factory.rootCertificate, "--certfile", server.certificate,
                "--keyfile", server.key, "--acl-file", acl, "--crlfile", factory.crl,
                "--data-dir", folder.appendingPathComponent("data").path, "--user", "root", "--log-type", "all",
                "--out", configFile,
            ]
        )
        process = try await Self.start(configFile: configFile, port: port, folder: folder)
    }

    /// Starts Mosquitto and waits until its port accepts a connection; throws (with it killed) if it exits first or
    /// 30 s pass.
    private static func start(configFile: String, port: Int, folder: URL) async throws -> ChildProcess {
        let process = try ChildProcess(
            "/usr/sbin/mosquitto",
            ["-c", configFile],
            outputPath: folder.appendingPathComponent("stderr.log").path
        )
        var listening = false
        try await waitFor {
            guard process.isRunning else { return true }
            listening =
                (try? await Command.run(
                    "/usr/bin/env",
                    ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/\(port)"],
                    timeout: .seconds(5)
                ))?.status == 0
            return listening
        }
        if listening { return process }
        process.kill()
        throw HarnessError(
            "mosquitto did not start on port \(port): \((try? String(contentsOf: folder.appendingPathComponent("data/mosquitto.log"), encoding: .utf8)) ?? "")"
        )
    }

    /// Mosquitto's process id (for a SIGHUP that makes it read its CRL again).
    var pid: pid_t { process.pid }

    /// Stops and starts again on the same port, so a new CRL is read for certain.
    func restart() async throws {
        await process.stop()
        process = try await Self.start(configFile: configFile, port: port, folder: folder)
    }

    /// `mosquitto_pub` with the bundle's own certificate and key; returns its result.
    func publish(bundle: String, topic: String, message: String) async throws -> CommandResult {
        try await Command.run(
            "/usr/bin/mosquitto_pub",
            [
                "-h", "localhost", "-p", "\(port)", "--cafile", bundle + "/ca.crt", "--cert", bundle + "/device.crt",
                "--key", bundle + "/device.key", "-V", "mqttv5", "-q", "1", "-t", topic, "-m", message,
            ],
            timeout: .seconds(20)
        )
    }

    /// SIGKILL: a broker a test drops is gone before the test ends.
    deinit {
        process.kill()
    }
}

/// A `mosquitto_sub` with a bundle's identity (the observer's, or a device's), recording `topic payload` lines.
final class ProvisioningObserver {
    private let process: ChildProcess
    private let output: String

    init(broker: ProvisioningBroker, bundle: String, topics: [String] = ["devices/#"]) async throws {
        output = broker.folder.appendingPathComponent("observer-\(UUID().uuidString.prefix(6)).out").path
        let clientID = "observer-\(UUID().uuidString.prefix(6))"
        process = try ChildProcess(
            "/usr/bin/mosquitto_sub",
            [
                "-h", "localhost", "-p", "\(broker.port)", "--cafile", bundle + "/ca.crt", "--cert",
                bundle + "/device.crt",
                "--key", bundle + "/device.key", "-i", clientID, "-q", "1", "-v",
            ] + topics.flatMap { ["-t", $0] },
            outputPath: output
        )
        guard try await waitFor({ broker.log.contains("Received SUBSCRIBE from \(clientID)") }) else {
            process.kill()
            throw HarnessError("observer did not subscribe: \(broker.log.suffix(2000))")
        }
    }

    var lines: [String] {
        ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// Waits until `condition` holds for the lines so far, at most `timeout` (a failure bound); returns them either way.
    func wait(timeout: Duration = .seconds(20), until condition: ([String]) -> Bool) async throws -> [String] {
        var current: [String] = []
        try await waitFor(timeout: timeout) {
            current = lines
            return condition(current)
        }
        return current
    }

    /// SIGKILL: it keeps nothing worth a graceful exit, and an observer a test drops is gone before the test ends.
    deinit {
        process.kill()
    }
}
