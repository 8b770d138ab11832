import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// OCSP staples from a server that can staple (`openssl s_server -status_file`; Mosquitto 2.0 cannot).
/// Only the TLS handshake matters here: s_server does not speak MQTT.
extension TrustMatrixTests {
    @Test("OCSP staple: good passes, revoked is refused", arguments: [("good", true), ("revoked", false)])
    func ocspStaple(server: String, good: Bool) async throws {
        let fixture = try #require(TrustFixture.current)
        let ca = fixture.folder.appendingPathComponent("ca").path
        let certificate = fixture.folder.appendingPathComponent("srv-\(server)/server.crt").path
        let key = fixture.folder.appendingPathComponent("srv-\(server)/server.key").path
        let response = fixture.folder.appendingPathComponent("ocsp-\(server).der").path
        try await Command.check(
            "/usr/bin/openssl",
            [
                "ocsp", "-index", ca + "/index.txt", "-rsigner", ca + "/ca.crt", "-rkey", ca + "/ca.key",
                "-CA", ca + "/ca.crt", "-issuer", ca + "/ca.crt", "-cert", certificate, "-respout", response, "-ndays",
                "1",
            ]
        )
        var port = 0
        var process: ChildProcess?
        for _ in 0..<3 where process == nil {
            port = try Loopback.freePort()
            let candidate = try ChildProcess(
                "/usr/bin/openssl",
                [
                    "s_server", "-accept", "127.0.0.1:\(port)", "-cert", certificate, "-key", key,
                    "-status_file", response, "-quiet",
                ],
                outputPath: fixture.folder.appendingPathComponent("s_server-\(server).log").path
            )
            if try await Loopback.waitForListeners([port], process: candidate) {
                process = candidate
            } else {
                candidate.kill()
            }
        }
        let server = try #require(process, "openssl s_server did not start")
        defer { server.kill() }

        let id = "dev-ocsp-\(good ? "good" : "revoked")"
        let config = try fixture.config(
            case: id,
            deviceID: id,
            identity: try await fixture.device(id),
            listener: "good",
            extraTLS: "ocsp = \"require\""
        )
        // Point the config at s_server instead of the Mosquitto listener.
        let text = try String(contentsOfFile: config, encoding: .utf8)
            .replacingOccurrences(of: "port = \(fixture.port("good"))", with: "port = \(port)")
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let check = try await TrustFixture.check(config)
        if good {
            #expect(
                check.output.contains("PASS tls handshake:") && check.output.contains("OCSP staple good"),
                "\(check.output)"
            )
        } else {
            #expect(
                check.output.contains(
                    "FAIL tls handshake: TLS: broker certificate refused: OCSP: the broker's certificate is revoked (OCSP status \"revoked\")"
                ),
                "\(check.output)"
            )
        }
    }

}
