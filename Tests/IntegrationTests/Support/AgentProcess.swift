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

    /// Sends a signal and waits for the exit status (128+N for death by signal N), at most `timeout` (a failure bound);
    /// nil if it had to be killed.
    func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(30)) async -> Int32? {
        await child.stop(signal: signal, grace: timeout)
    }

    /// How many lines of the log contain `text` (e.g. "MQTT connected").
    func count(_ text: String) -> Int {
        log.components(separatedBy: text).count - 1
    }

    /// The newest seq the agent assigned so far, from its debug log ("reading sensor=… seq=N"); 0 before any.
    var newestSeq: UInt64 {
        let log = log
        guard let line = log.range(of: " seq=", options: .backwards) else { return 0 }
        return UInt64(log[line.upperBound...].prefix { $0.isNumber }) ?? 0
    }

    /// When the agent logged the first line containing `text` (its log lines start with an RFC 3339 UTC time with
    /// milliseconds): the agent's own timeline, free of the test's polling and scheduling delays.
    func loggedAt(_ text: String) -> Date? {
        guard let line = log.split(separator: "\n").first(where: { $0.contains(text) }),
            let stamp = line.split(separator: " ").first
        else { return nil }
        let format = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        return try? format.parse(String(stamp))
    }
}
