import Foundation

/// A self-signed P-256 certificate and its key, plus an unrelated key and an RSA key, made by the `openssl` command
/// in a fresh folder (removed with the value).
final class TestCertificates {
    let folder: URL
    var certificate: String { folder.appendingPathComponent("device.crt").path }
    var key: String { folder.appendingPathComponent("device.key").path }
    var otherKey: String { file("other.key") }
    var rsaKey: String { file("rsa.key") }

    func file(_ name: String) -> String { folder.appendingPathComponent(name).path }

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("pinpost-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Self.openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", certificate, "-subj", "/CN=device", "-days", "2",
            "-addext", "subjectAltName=DNS:localhost",
        ])
        try Self.openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", otherKey])
        try Self.openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", rsaKey])
    }

    deinit {
        try? FileManager.default.removeItem(at: folder)
    }

    private static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: ["arguments": arguments])
        }
    }
}
