import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Everything the trust matrix builds once: a PKI (root, intermediate, another CA), one broker
/// certificate per case (made with `provisioning/pinpost-pki`, or raw openssl where the factory
/// script rightly cannot), CRLs, and one Mosquitto with a listener per broker certificate.
struct TrustFixture: Sendable {
    @TaskLocal static var current: TrustFixture?
    private static let issuing = AsyncLock()

    let folder: URL
    let caCertificate: String
    let caDirectory: String
    let rootCRL: String
    let intermediateCRL: String
    let expiredCRL: String
    let ports: [String: Int]
    let brokerFolder: URL
    let brokerLogFile: String

    /// Broker certificates: listener name → (certificate file, key file), all for `localhost` unless noted.
    static func build(in folder: URL) async throws -> (TrustFixture, TrustBroker) {
        let pki = try await TestPKI(in: folder)
        let pkiTool = Repository.pki
        let intermediate = folder.appendingPathComponent("intermediate").path
        try await Command.check(
            pkiTool,
            ["intermediate", pki.caFolder, intermediate, "--cn", "Pinpost Test Intermediate"]
        )
        let other = try await TestPKI(in: folder.appendingPathComponent("other"), caName: "Other Test CA")
        let hosts = ["localhost", "127.0.0.1"]

        func server(
            _ name: String,
            ca: String? = nil,
            hosts: [String] = hosts,
            _ extra: [String] = []
        ) async throws -> (String, String) {
            let out = folder.appendingPathComponent("srv-\(name)").path
            try await Command.check(
                pkiTool,
                ["server", ca ?? pki.caFolder, out] + hosts.flatMap { ["--host", $0] } + extra
            )
            return (out + "/server.crt", out + "/server.key")
        }
        var listeners: [TrustBroker.Listener] = []
        func add(_ name: String, _ files: (String, String), crl: String? = nil, extra: [String] = []) {
            listeners.append(.init(name: name, certificate: files.0, key: files.1, crl: crl, extraLines: extra))
        }

        let good = try await server("good")
        add("good", good)
        let chained = try await server("chain", ca: intermediate)
        add("goodChain", (folder.appendingPathComponent("srv-chain/server-chain.crt").path, chained.1))
        add("missingIntermediate", chained)
        add("expired", try await server("expired", ["--not-before", "10 days ago", "--not-after", "1 day ago"]))
        add("notYetValid", try await server("future", ["--not-before", "+2 days", "--not-after", "+30 days"]))
        add("wrongHost", try await server("wronghost", hosts: ["broker.example.net"]))
        add("noSAN", try await server("nosan", hosts: ["localhost"], ["--no-san"]))
        let otherOut = folder.appendingPathComponent("srv-other").path
        try await Command.check(
            pkiTool,
            ["server", other.caFolder, otherOut, "--host", "localhost", "--host", "127.0.0.1"]
        )
        add("otherCA", (otherOut + "/server.crt", otherOut + "/server.key"))
        add("selfSigned", try await selfSigned(in: folder))
        let revoked = try await server("revoked")
        add("revoked", revoked)
        add("noServerAuth", try await server("clientonly", ["--eku", "clientAuth"]))
        // Debian's OpenSSL runs Mosquitto at security level 2 too; level 0 lets it present the weak key at all.
        add("rsa1024", try await server("rsa1024", ["--key-type", "rsa:1024"]), extra: ["ciphers DEFAULT:@SECLEVEL=0"])
        add("issuerNotCA", try await signedByLeaf(in: folder, issuer: try await server("issuerleaf")))

        // Revocations: the "revoked" broker certificate and a device certificate, in one root CRL.
        let revokedDevice = try await pki.device("dev-revoked")
        try await Command.check(pkiTool, ["revoke", pki.caFolder, revoked.0])
        try await Command.check(pkiTool, ["revoke", pki.caFolder, revokedDevice.certificate])
        let rootCRL = folder.appendingPathComponent("root.crl").path
        try await Command.check(pkiTool, ["crl", pki.caFolder, rootCRL])
        let intermediateCRL = folder.appendingPathComponent("intermediate.crl").path
        try await Command.check(pkiTool, ["crl", intermediate, intermediateCRL])
        let expiredCRL = folder.appendingPathComponent("expired.crl").path
        try await Command.check(
            pkiTool,
            ["crl", pki.caFolder, expiredCRL, "--not-before", "10 days ago", "--not-after", "1 day ago"]
        )
        add("deviceRevoked", good, crl: rootCRL)

        // A hashed trust-anchor folder for tls.ca_dir.
        let caDirectory = folder.appendingPathComponent("ca-dir").path
        try FileManager.default.createDirectory(atPath: caDirectory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: pki.caCertificate, toPath: caDirectory + "/pinpost-test-ca.pem")
        try await Command.check("/usr/bin/openssl", ["rehash", caDirectory])

        let brokerFolder = folder.appendingPathComponent("broker")
        let broker = try await TrustBroker(pki: pki, folder: brokerFolder, listeners: listeners)
        let fixture = TrustFixture(
            folder: folder,
            caCertificate: pki.caCertificate,
            caDirectory: caDirectory,
            rootCRL: rootCRL,
            intermediateCRL: intermediateCRL,
            expiredCRL: expiredCRL,
            ports: broker.ports,
            brokerFolder: brokerFolder,
            brokerLogFile: broker.logFile
        )
        return (fixture, broker)
    }

    /// A self-signed broker certificate with the right names: only trust makes it wrong.
    private static func selfSigned(in folder: URL) async throws -> (String, String) {
        let out = folder.appendingPathComponent("srv-selfsigned")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let (crt, key) = (out.appendingPathComponent("server.crt").path, out.appendingPathComponent("server.key").path)
        try await Command.check(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                "-out", crt,
                "-days", "30", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-addext", "extendedKeyUsage=serverAuth",
            ]
        )
        return (crt, key)
    }

    /// A broker certificate "issued" by another broker's leaf (CA:FALSE): the chain file is new leaf + that leaf.
    /// The factory script refuses to sign with a leaf, so this one is made with raw openssl.
    private static func signedByLeaf(in folder: URL, issuer: (String, String)) async throws -> (String, String) {
        let out = folder.appendingPathComponent("srv-notca")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let path = { (name: String) in out.appendingPathComponent(name).path }
        try await Command.check(
            "/usr/bin/openssl",
            [
                "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", path("server.key"), "-out", path("server.csr"), "-subj", "/CN=localhost",
            ]
        )
        try
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\n"
            .write(toFile: path("ext.cnf"), atomically: true, encoding: .utf8)
        try await Command.check(
            "/usr/bin/openssl",
            [
                "x509", "-req", "-in", path("server.csr"), "-CA", issuer.0, "-CAkey", issuer.1, "-CAcreateserial",
                "-CAserial", path("serial"), "-days", "30", "-sha256", "-extfile", path("ext.cnf"), "-out",
                path("leaf.crt"),
            ]
        )
        let chain =
            try String(contentsOfFile: path("leaf.crt"), encoding: .utf8)
            + String(contentsOfFile: issuer.0, encoding: .utf8)
        try chain.write(toFile: path("server-chain.crt"), atomically: true, encoding: .utf8)
        return (path("server-chain.crt"), path("server.key"))
    }

    func port(_ listener: String) -> Int {
        ports[listener] ?? 1
    }

    var brokerLog: String { (try? String(contentsOfFile: brokerLogFile, encoding: .utf8)) ?? "" }

    /// Whether the broker ever opened an MQTT session for this client id ("New client connected … as <id> "),
    /// i.e. the client sent CONNECT. Each case has its own device id, so parallel cases do not mix.
    func mqttSessionSeen(deviceID: String) -> Bool {
        brokerLog.split(separator: "\n").contains {
            $0.contains("New client connected from ") && $0.contains(" as \(deviceID) ")
        }
    }

    /// A device identity made by the factory script, in its own folder.
    func device(_ id: String, _ extra: [String] = []) async throws -> TestPKI.Identity {
        let out = folder.appendingPathComponent("device-\(id)").path
        // pinpost-pki checks CA_DIR/serial before taking its lock, while a parallel `openssl ca` may be
        // replacing that file: issue one certificate at a time.
        _ = try await Self.issuing.withLock {
            try await Command.check(
                Repository.pki,
                ["device", folder.appendingPathComponent("ca").path, out, "--id", id] + extra
            )
        }
        return TestPKI.Identity(
            certificate: out + "/device.crt",
            key: out + "/device.key",
            trustAnchor: out + "/ca.crt"
        )
    }

    /// Writes a config for one case into its own folder; `tls` replaces the default trust lines when given.
    func config(
        case name: String,
        deviceID: String,
        identity: TestPKI.Identity,
        listener: String,
        tls: String? = nil,
        keyFile: String? = nil,
        extraTLS: String = "",
        extraBroker: String = ""
    ) throws -> String {
        let caseFolder = folder.appendingPathComponent("case-\(name)")
        try FileManager.default.createDirectory(at: caseFolder, withIntermediateDirectories: true)
        let text = """
            [device]
            id = "\(deviceID)"

            [broker]
            host = "localhost"
            port = \(port(listener))
            connect_timeout = 5
            \(extraBroker)

            [tls]
            \(tls ?? "ca_file = \"\(caCertificate)\"")
            cert_file = "\(identity.certificate)"
            key_file = "\(keyFile ?? identity.key)"
            \(extraTLS)

            [time]
            require_sync = false

            [spool]
            dir = "state"
            """
        let path = caseFolder.appendingPathComponent("pinpost.toml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `pinpost check`, optionally under `env` (e.g. SOFTHSM2_CONF).
    static func check(_ config: String, environment: [String] = []) async throws -> CommandResult {
        let agent = try Repository.agentBinary
        if environment.isEmpty {
            return try await Command.run(agent, ["check", "--config", config, "--timeout", "5"], timeout: .seconds(30))
        }
        return try await Command.run(
            "/usr/bin/env",
            environment + [agent, "check", "--config", config, "--timeout", "5"],
            timeout: .seconds(30)
        )
    }

    /// `pinpost run`, for exit codes of refusals that happen before any connection.
    static func run(_ config: String) async throws -> CommandResult {
        try await Command.run(try Repository.agentBinary, ["run", "--config", config], timeout: .seconds(20))
    }
}

/// Builds the fixture once around a whole suite, and stops its broker afterwards.
struct TrustFixtureTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        // Its own ChildScope: the broker lives as long as the suite, and must be gone when the suite ends.
        try await ChildScope.checking("the trust fixture") {
            let folder = try Repository.temporaryFolder("trust")
            let (fixture, broker) = try await TrustFixture.build(in: folder)
            let outcome: Result<Void, any Error>
            do {
                try await TrustFixture.$current.withValue(fixture) { try await function() }
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
            await broker.stop()
            try outcome.get()
        }
    }
}

extension Trait where Self == TrustFixtureTrait {
    /// One PKI and one many-listener Mosquitto for every test in the suite.
    static var trustFixture: Self { Self() }
}

extension TestPKI {
    /// A second, unrelated CA (for "signed by another CA").
    init(in folder: URL, caName: String) async throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        self.folder = folder
        try await Command.check(Repository.pki, ["ca", caFolder, "--cn", caName])
    }
}
