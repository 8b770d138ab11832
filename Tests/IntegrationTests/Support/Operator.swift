import Foundation

/// An operator identity (`mosquitto-conf acl --operator`): sends commands with Debian's own clients,
/// `mosquitto_pub` and `mosquitto_rr`, as a person at a console would.
struct Operator {
    static let id = "operator"

    let broker: TestBroker
    let identity: TestPKI.Identity

    init(broker: TestBroker) async throws {
        self.broker = broker
        let folder = broker.pki.folder.appendingPathComponent("device-\(Self.id)").path
        if FileManager.default.fileExists(atPath: folder + "/device.crt") {
            identity = TestPKI.Identity(
                certificate: folder + "/device.crt",
                key: folder + "/device.key",
                trustAnchor: folder + "/ca.crt"
            )
        } else {
            identity = try await broker.pki.device(Self.id)
        }
    }

    private var connection: [String] {
        [
            "-h", "localhost", "-p", "\(broker.port)", "--cafile", identity.trustAnchor, "--cert", identity.certificate,
            "--key", identity.key,
        ]
    }

    /// `mosquitto_rr`: publishes `payload` (MQTT 5 with a Response Topic unless `version` says otherwise) and
    /// returns the one reply it waited for, parsed.
    func request(
        _ payload: String,
        device: String,
        responseTopic: String? = nil,
        version: String = "5"
    ) async throws -> [String: Any] {
        let result = try await Command.run(
            "/usr/bin/mosquitto_rr",
            connection + [
                "-V", version == "5" ? "5" : "311", "-q", "1", "-W", "20", "-t", "devices/\(device)/commands",
                "-e", responseTopic ?? "devices/\(device)/replies/\(Self.id)", "-m", payload,
            ],
            timeout: .seconds(40)
        )
        guard result.status == 0,
            let line = result.output.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        else {
            throw HarnessError("mosquitto_rr got no reply (exit \(result.status)): \(result.output)")
        }
        return object
    }

    /// `mosquitto_pub` at `qos` with MQTT 5 `properties` (`-D publish ...`); returns its output (with `-d` trace).
    @discardableResult
    func publish(
        _ payload: String,
        topic: String,
        qos: Int = 1,
        properties: [String] = [],
        as identity: TestPKI.Identity? = nil
    ) async throws -> CommandResult {
        let who = identity ?? self.identity
        return try await Command.run(
            "/usr/bin/mosquitto_pub",
            [
                "-h", "localhost", "-p", "\(broker.port)", "--cafile", who.trustAnchor, "--cert", who.certificate,
                "--key", who.key, "-V", "5", "-d", "-q", "\(qos)", "-t", topic, "-m", payload,
            ] + properties,
            timeout: .seconds(30)
        )
    }
}

extension AgentProcess {
    /// Waits until the broker has the agent's subscription to its commands (after each connection the session may
    /// need it again): a command published before it would not be delivered.
    static func waitUntilSubscribed(_ broker: TestBroker, device: String, count: Int = 1) async throws -> Bool {
        try await waitFor {
            broker.log.components(separatedBy: "Received SUBSCRIBE from \(device)").count - 1 >= count
        }
    }
}

/// A reply or state payload, parsed.
func json(_ payload: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any]) ?? [:]
}
