public import MQTT
public import PinpostAgent
internal import SystemExtras

/// `pinpost-ca serve --config FILE`: where the broker is, the responder's own identity, the factory CA it signs
/// with, and the request topics it answers. Relative paths resolve against the config file's folder.
public struct ResponderConfiguration: Sendable {
    public var file: String
    // [broker]
    public var host: String
    public var port: Int
    public var protocolVersion: MQTTVersion
    public var keepAlive: Duration
    public var connectTimeout: Duration
    /// MQTT client id; nil: the CN of the responder's certificate.
    public var clientID: String?
    // [tls]
    public var caFile: String
    public var certFile: String
    public var keyFile: String
    public var serverName: String
    // [ca]
    /// A `pinpost-factory` folder: `ca/` (the signing CA), `registry.csv`, `crl.pem`.
    public var factoryDirectory: String
    /// `provisioning/pinpost-pki`, which signs and revokes in the CA's openssl database.
    public var pki: String
    /// Lifetime of the certificates it issues.
    public var validity: Duration
    /// Where the CRL is written for the broker (`crlfile` in Mosquitto), and for how many days it is valid.
    public var crlFile: String
    public var crlDays: Int
    /// Run after the CRL changed (e.g. `["systemctl", "reload", "mosquitto"]`: Mosquitto reloads it on SIGHUP).
    public var crlReload: [String]
    public var auditLog: String
    // [requests]
    public var topic: TopicPattern
    public var activatedTopic: TopicPattern
    public var claimTopic: TopicPattern
    /// Claim identities (certificate CNs) that may ask for a device identity.
    public var claims: [String]
    /// At most this many requests per device within `window` (certificates in the registry count too).
    public var maxRequests: Int
    public var window: Duration

    public var caDirectory: String { factoryDirectory + "/ca" }
    public var registry: String { factoryDirectory + "/registry.csv" }
}

public enum ResponderConfigLoader {
    public static func load(path: String) throws(ConfigError) -> ResponderConfiguration {
        let file = FileSystem.absolute(path, relativeTo: FileSystem.currentDirectory())
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(file, limit: 1 << 20)
        } catch {
            throw ConfigError(file: file, key: "", problem: "\(error)", fix: "pass a readable config with --config")
        }
        let folder = FileSystem.directoryName(of: file)
        func absolute(_ path: String) -> String { FileSystem.absolute(path, relativeTo: folder) }
        var top = try TableReader.root(text: String(decoding: bytes, as: UTF8.self), file: file)

        var broker = try top.section("broker", fix: "add [broker] with host and port")
        let host = try broker.requiredString("host", fix: "set broker.host to the broker's name or address")
        let port = try broker.int("port", range: 1...65535, fix: "set broker.port to its TLS port (8883)") ?? 8883
        let protocolText = try broker.string("protocol", fix: "set broker.protocol to \"5\" or \"3.1.1\"") ?? "5"
        guard protocolText == "5" || protocolText == "3.1.1" else {
            throw broker.error("protocol", "'\(protocolText)' is not supported", fix: "use \"5\" or \"3.1.1\"")
        }
        let keepAlive = try broker.int("keepalive", range: 0...65535, fix: "set broker.keepalive in seconds") ?? 30
        let connectTimeout =
            try broker.int("connect_timeout", range: 1...600, fix: "set broker.connect_timeout in seconds") ?? 10
        let clientID = try broker.string("client_id", fix: "set broker.client_id, or remove it to use the CN")
        try broker.rejectUnknownKeys(known: "host, port, protocol, keepalive, connect_timeout, client_id")

        var tls = try top.section("tls", fix: "add [tls] with ca_file, cert_file and key_file")
        let caFile = try tls.requiredString("ca_file", fix: "set tls.ca_file to the broker's trust anchor (PEM)")
        let certFile = try tls.requiredString("cert_file", fix: "set tls.cert_file to the responder's certificate")
        let keyFile = try tls.requiredString("key_file", fix: "set tls.key_file to the responder's key (0600)")
        let serverName = try tls.string("server_name", fix: "set tls.server_name, or remove it") ?? host
        try tls.rejectUnknownKeys(known: "ca_file, cert_file, key_file, server_name")

        var ca = try top.section("ca", fix: "add [ca] with factory_dir")
        let factory = absolute(
            try ca.requiredString(
                "factory_dir",
                fix: "set ca.factory_dir to the pinpost-factory folder (ca/, registry.csv)"
            )
        )
        let pki = try ca.string("pki", fix: "set ca.pki to the path of provisioning/pinpost-pki").map(absolute)
        guard let pkiPath = pki ?? findPKI() else {
            throw ca.error(
                "pki",
                "not set, and pinpost-pki is neither in PINPOST_PKI, next to this program's checkout, nor on PATH",
                fix: "set ca.pki to the path of provisioning/pinpost-pki"
            )
        }
        let validity =
            try ca.duration(
                "validity",
                range: .seconds(60)...(.seconds(3650 * 86_400)),
                fix: "set ca.validity to a duration such as \"90d\""
            ) ?? .seconds(90 * 86_400)
        let crlFile = try ca.string("crl_file", fix: "set ca.crl_file to the broker's crlfile").map(absolute)
        let crlDays = try ca.int("crl_days", range: 1...3650, fix: "set ca.crl_days (default 30)") ?? 30
        let crlReload =
            try ca.strings(
                "crl_reload",
                fix: "set ca.crl_reload to a command as a list, e.g. [\"systemctl\", \"reload\", \"mosquitto\"]"
            ) ?? []
        let audit = try ca.string("audit_log", fix: "set ca.audit_log to a file path").map(absolute)
        try ca.rejectUnknownKeys(known: "factory_dir, pki, validity, crl_file, crl_days, crl_reload, audit_log")

        var topic = AgentConfiguration.Renewal.defaultTopic
        var activated = AgentConfiguration.Renewal.defaultActivatedTopic
        var claimTopic = AgentConfiguration.Renewal.defaultClaimTopic
        var claims: [String] = []
        var maxRequests = 3
        var window = Duration.seconds(86_400)
        if var requests = try top.subtable("requests", required: false, fix: "write [requests] as a table") {
            topic = try requests.string("topic", fix: "set requests.topic (with {id})") ?? topic
            activated =
                try requests.string("activated_topic", fix: "set requests.activated_topic (with {id})") ?? activated
            claimTopic =
                try requests.string("claim_topic", fix: "set requests.claim_topic (with {claim} and {id})")
                ?? claimTopic
            claims = try requests.strings("claims", fix: "set requests.claims to a list of claim certificate CNs") ?? []
            maxRequests =
                try requests.int("max_requests", range: 1...10_000, fix: "set requests.max_requests (default 3)")
                ?? maxRequests
            window =
                try requests.duration(
                    "window",
                    range: .seconds(1)...(.seconds(365 * 86_400)),
                    fix: "set requests.window to a duration such as \"1d\""
                ) ?? window
            try requests.rejectUnknownKeys(
                known: "topic, activated_topic, claim_topic, claims, max_requests, window"
            )
            for (key, value, needed) in [
                ("topic", topic, ["{id}"]), ("activated_topic", activated, ["{id}"]),
                ("claim_topic", claimTopic, ["{claim}", "{id}"]),
            ] where needed.contains(where: { !value.contains($0) }) || value.contains("+") || value.contains("#") {
                throw requests.error(
                    key,
                    "'\(value)' must name \(needed.joined(separator: " and ")) as whole levels and hold no wildcard",
                    fix: "the broker's ACL scopes each device by these levels; see README, The CA responder"
                )
            }
        }
        try top.rejectUnknownKeys(known: "[broker], [tls], [ca], [requests]")
        return ResponderConfiguration(
            file: file,
            host: host,
            port: port,
            protocolVersion: protocolText == "5" ? .v5 : .v3_1_1,
            keepAlive: .seconds(keepAlive),
            connectTimeout: .seconds(connectTimeout),
            clientID: clientID,
            caFile: absolute(caFile),
            certFile: absolute(certFile),
            keyFile: absolute(keyFile),
            serverName: serverName,
            factoryDirectory: factory,
            pki: pkiPath,
            validity: validity,
            crlFile: crlFile ?? factory + "/crl.pem",
            crlDays: crlDays,
            crlReload: crlReload,
            auditLog: audit ?? factory + "/audit.log",
            topic: TopicPattern(topic),
            activatedTopic: TopicPattern(activated),
            claimTopic: TopicPattern(claimTopic),
            claims: claims,
            maxRequests: maxRequests,
            window: window
        )
    }

    /// `PINPOST_PKI`, the checkout this program was built in (`.build/<config>/pinpost-ca` → `provisioning/`), or PATH.
    static func findPKI() -> String? {
        if let path = CurrentProcess.environment(["PINPOST_PKI"])["PINPOST_PKI"], FileSystem.isExecutable(path) {
            return path
        }
        let executable = CurrentProcess.executablePath ?? ""
        var folder = FileSystem.directoryName(of: executable)
        for _ in 0..<4 {
            let candidate = folder + "/provisioning/pinpost-pki"
            if FileSystem.isExecutable(candidate) { return candidate }
            folder = FileSystem.directoryName(of: folder)
        }
        let path = CurrentProcess.environment(["PATH"])["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") where FileSystem.isExecutable("\(folder)/pinpost-pki") {
            return "\(folder)/pinpost-pki"
        }
        return nil
    }
}
