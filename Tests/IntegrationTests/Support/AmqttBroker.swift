import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// amqtt (PyPI, a second MQTT broker implementation, asyncio/Python, MQTT 3.1.1 only) on a free loopback port
/// with a TLS listener. amqtt verifies a client certificate against the CA when one is presented
/// (`CERT_OPTIONAL`; it cannot require one), which the agent always does. Sessions live in memory: a restart
/// forgets them (its persistence plugin needs SQLAlchemy), so a restart exercises Session Present=0.
///
/// The broker comes from `board/dev/install-deps` (a venv in `.build/peers/amqtt`); if missing it is installed
/// here the same way, so `swift test` alone also works.
final class AmqttBroker {
    static let version = "0.12.1"
    let folder: URL
    let port: Int
    let pki: TestPKI
    private var process: ChildProcess
    private let configFile: String

    var logFile: String { folder.appendingPathComponent("amqtt.log").path }

    static var venv: URL { Repository.root.appendingPathComponent(".build/peers/amqtt") }
    static var executable: String { venv.appendingPathComponent("bin/amqtt").path }

    init(pki: TestPKI, name: String = "amqtt") throws {
        try Self.install()
        self.pki = pki
        folder = pki.folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let server = try pki.server("\(name)-server", hosts: ["localhost", "127.0.0.1"])
        let logFile = folder.appendingPathComponent("amqtt.log").path
        var lastError = ""
        for _ in 0..<5 {
            let port = try Loopback.freePort()
            let configuration = """
                listeners:
                  default:
                    type: tcp
                    bind: 127.0.0.1:\(port)
                    ssl: true
                    cafile: \(pki.caCertificate)
                    certfile: \(server.certificate)
                    keyfile: \(server.key)
                plugins:
                  amqtt.plugins.authentication.AnonymousAuthPlugin:
                    allow_anonymous: true
                """
            let configFile = folder.appendingPathComponent("amqtt.yaml").path
            try configuration.write(toFile: configFile, atomically: true, encoding: .utf8)
            let process = try ChildProcess(Self.executable, ["-c", configFile], outputPath: logFile)
            if Self.waitForListener(port: port, process: process) {
                self.port = port
                self.process = process
                self.configFile = configFile
                return
            }
            process.stop(signal: SIGKILL)
            lastError = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "no log"
        }
        throw HarnessError("amqtt did not start: \(lastError)")
    }

    /// SIGTERM: amqtt shuts its listeners down and exits.
    func stop() {
        process.stop()
    }

    /// Starts amqtt again on the same port.
    func start() throws {
        guard !process.isRunning else { return }
        for _ in 0..<50 {
            let process = try ChildProcess(Self.executable, ["-c", configFile], outputPath: logFile)
            if Self.waitForListener(port: port, process: process) {
                self.process = process
                return
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw HarnessError("amqtt did not restart on port \(port)")
    }

    deinit {
        stop()
    }

    /// Creates the venv and installs the pinned amqtt when it is not there yet (bounded).
    static func install() throws {
        if FileManager.default.isExecutableFile(atPath: executable) { return }
        try Command.check("/usr/bin/python3", ["-m", "venv", venv.path], timeout: .seconds(120))
        try Command.check(venv.appendingPathComponent("bin/pip").path, ["install", "-q", "amqtt==\(version)"], timeout: .seconds(300))
    }

    private static func waitForListener(port: Int, process: ChildProcess) -> Bool {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { return false }
            if Loopback.canConnect(port: port) { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
    }
}
