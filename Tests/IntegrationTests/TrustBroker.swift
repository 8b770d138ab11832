import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One Mosquitto with many TLS listeners, each presenting its own broker certificate, so the whole
/// trust matrix needs one broker start instead of one per case.
final class TrustBroker {
    struct Listener {
        var name: String
        /// Leaf first, intermediates may follow.
        var certificate: String
        var key: String
        /// Broker-side CRL for client certificates (Mosquitto `crlfile`).
        var crl: String? = nil
        /// Extra per-listener lines (e.g. `ciphers` to let Mosquitto serve a weak key at all).
        var extraLines: [String] = []
    }

    let folder: URL
    private(set) var ports: [String: Int] = [:]
    private let process: ChildProcess

    var logFile: String { folder.appendingPathComponent("data/mosquitto.log").path }

    init(pki: TestPKI, folder: URL, listeners: [Listener]) async throws {
        self.folder = folder
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("data"),
            withIntermediateDirectories: true
        )
        var acl = try await Command.check(Repository.mosquittoConf, ["acl"])
        acl += "\n# test observer\nuser \(TestBroker.watcherID)\ntopic read devices/#\n"
        let aclFile = folder.appendingPathComponent("acl").path
        try acl.write(toFile: aclFile, atomically: true, encoding: .utf8)

        let logFile = folder.appendingPathComponent("data/mosquitto.log").path
        var lastError = "no attempt"
        for _ in 0..<3 {
            var ports: [String: Int] = [:]
            var text = ""
            for (index, listener) in listeners.enumerated() {
                let port = try Loopback.freePort()
                ports[listener.name] = port
                var arguments = [
                    "--port", "\(port)", "--cafile", pki.caCertificate,
                    "--certfile", listener.certificate, "--keyfile", listener.key,
                    "--acl-file", aclFile, "--data-dir", folder.appendingPathComponent("data").path,
                ]
                if let crl = listener.crl { arguments += ["--crlfile", crl] }
                arguments += index == 0 ? ["--user", "root", "--log-type", "all"] : ["--listener-only"]
                text += try await Command.check(Repository.mosquittoConf, arguments)
                text += "\n" + listener.extraLines.joined(separator: "\n") + "\n"
            }
            let configFile = folder.appendingPathComponent("mosquitto.conf").path
            try text.write(toFile: configFile, atomically: true, encoding: .utf8)
            try? FileManager.default.removeItem(atPath: logFile)
            let process = try ChildProcess(
                "/usr/sbin/mosquitto",
                ["-c", configFile],
                outputPath: folder.appendingPathComponent("stderr.log").path
            )
            if try await Loopback.waitForListeners(Array(ports.values), process: process) {
                self.ports = ports
                self.process = process
                return
            }
            process.kill()
            lastError = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "no log"
        }
        throw HarnessError("mosquitto with \(listeners.count) listeners did not start: \(lastError)")
    }

    func stop() async {
        await process.stop()
    }

    deinit {
        process.kill()
    }
}
