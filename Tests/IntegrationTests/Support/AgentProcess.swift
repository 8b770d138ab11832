import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A config file for the agent under test, pointing at a test broker.
struct AgentConfig {
    var deviceID: String
    var identity: TestPKI.Identity
    var port: Int
    var host = "localhost"
    var protocolVersion = "5"
    var keepalive = 30
    var connectTimeout = 10
    var sensors = """
        [[sensor]]
        name = "door"
        type = "digital"
        chip = "gpiochip0"
        line = 17
        simulate = "toggle:100ms"
        """
    var extraTLS = ""
    /// Extra keys for [spool].
    var extraSpool = ""
    /// Extra sections appended before the sensors.
    var extraSections = ""
    /// Names the state folder (`state-<name>`); defaults to the device id.
    var spoolName: String?

    func write(to folder: URL, fileName: String? = nil) throws -> String {
        let text = """
            [device]
            id = "\(deviceID)"

            [broker]
            host = "\(host)"
            port = \(port)
            protocol = "\(protocolVersion)"
            keepalive = \(keepalive)
            connect_timeout = \(connectTimeout)

            [tls]
            ca_file = "\(identity.trustAnchor)"
            cert_file = "\(identity.certificate)"
            key_file = "\(identity.key)"
            \(extraTLS)

            [time]
            require_sync = false

            [spool]
            dir = "state-\(spoolName ?? deviceID)"
            \(extraSpool)

            [gpio]
            backend = "simulated"

            \(extraSections)

            \(sensors)
            """
        let path = folder.appendingPathComponent(fileName ?? "pinpost-\(deviceID).toml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

/// `pinpost run` as a child process, as systemd would run it.
final class AgentProcess {
    let child: ChildProcess
    let logFile: URL

    init(configPath: String, environment: [String: String] = [:]) throws {
        logFile = URL(fileURLWithPath: configPath + ".log")
        child = try ChildProcess(
            try Repository.agentBinary,
            ["run", "--config", configPath, "--log-level", "debug"],
            outputPath: logFile.path,
            environment: environment
        )
    }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// The log without its debug lines (one per reading, and service dumps at shutdown): what a failure message
    /// should quote, since a plain `log.suffix` is mostly those.
    var events: String {
        log.split(separator: "\n").filter { !$0.contains(" debug ") }.joined(separator: "\n")
    }

    /// Sends a signal and waits (bounded) for the exit status (128+N for death by signal N); nil if it had to be killed.
    func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(20)) -> Int32? {
        child.signal(signal)
        if let status = child.wait(timeout: timeout) { return status }
        child.stop(signal: SIGKILL)
        return nil
    }
}
