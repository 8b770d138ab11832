import Foundation

/// A throwaway PKI made with the factory script itself (`provisioning/pinpost-pki`), so tests exercise what ships.
struct TestPKI {
    let folder: URL
    var caFolder: String { folder.appendingPathComponent("ca").path }
    var caCertificate: String { folder.appendingPathComponent("ca/ca.crt").path }

    init(in folder: URL) async throws {
        self.folder = folder
        try await Command.check(Repository.pki, ["ca", caFolder, "--cn", "Pinpost Test CA"])
    }

    struct Identity {
        var certificate: String
        var key: String
        var trustAnchor: String
    }

    /// A broker certificate for the given host names and IP literals.
    func server(_ name: String, hosts: [String], extra: [String] = []) async throws -> Identity {
        let out = folder.appendingPathComponent(name).path
        try await Command.check(Repository.pki, ["server", caFolder, out] + hosts.flatMap { ["--host", $0] } + extra)
        return Identity(certificate: out + "/server.crt", key: out + "/server.key", trustAnchor: caCertificate)
    }

    /// The observer identity the test ACL lets read all devices; made once per PKI.
    func watcher() async throws -> Identity {
        let out = folder.appendingPathComponent("device-\(TestBroker.watcherID)").path
        if FileManager.default.fileExists(atPath: out + "/device.crt") {
            return Identity(certificate: out + "/device.crt", key: out + "/device.key", trustAnchor: out + "/ca.crt")
        }
        return try await device(TestBroker.watcherID)
    }

    /// A device certificate with CN = `id` and clientAuth.
    func device(_ id: String, extra: [String] = []) async throws -> Identity {
        let out = folder.appendingPathComponent("device-\(id)").path
        try await Command.check(Repository.pki, ["device", caFolder, out, "--id", id] + extra)
        return Identity(certificate: out + "/device.crt", key: out + "/device.key", trustAnchor: out + "/ca.crt")
    }
}
