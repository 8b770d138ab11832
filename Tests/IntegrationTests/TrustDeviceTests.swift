import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The device side of trust, against the same fixture: who may read the key, whether the certificate
/// names this device, whether it is current, whether the broker still accepts it, and hardware keys.
extension TrustMatrixTests {
    /// A device identity whose key sits in its own folder, so its mode and owner can be changed.
    private func identityWithPrivateKeyCopy(
        _ fixture: TrustFixture,
        _ id: String
    ) async throws -> (TestPKI.Identity, URL) {
        let identity = try await fixture.device(id)
        let keyFolder = fixture.folder.appendingPathComponent("keys-\(id)")
        try FileManager.default.createDirectory(at: keyFolder, withIntermediateDirectories: true)
        chmod(keyFolder.path, 0o700)
        let key = keyFolder.appendingPathComponent("device.key").path
        try FileManager.default.copyItem(atPath: identity.key, toPath: key)
        return (
            TestPKI.Identity(certificate: identity.certificate, key: key, trustAnchor: identity.trustAnchor), keyFolder
        )
    }

    @Test("key file mode", arguments: [(0o644, false), (0o640, false), (0o604, false), (0o600, true), (0o400, true)])
    func keyFileMode(mode: Int, accepted: Bool) async throws {
        let fixture = try #require(TrustFixture.current)
        let id = "dev-mode-\(String(mode, radix: 8))"
        let (identity, _) = try await identityWithPrivateKeyCopy(fixture, id)
        chmod(identity.key, mode_t(mode))
        let config = try fixture.config(case: id, deviceID: id, identity: identity, listener: "good")
        if accepted {
            let result = try await TrustFixture.check(config)
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output.contains("PASS key file: \(identity.key)"), "\(result.output)")
        } else {
            let run = try await TrustFixture.run(config)
            #expect(run.status == 77, "\(run.output)")
            #expect(
                run.output.contains("tls.key_file '\(identity.key)' has mode 0\(String(mode, radix: 8))"),
                "\(run.output)"
            )
            #expect(run.output.contains("chmod 600"), "\(run.output)")
            let check = try await TrustFixture.check(config)
            #expect(check.output.contains("FAIL key file: tls.key_file"), "\(check.output)")
        }
    }

    @Test("key owned by another user", .enabled(if: geteuid() == 0, "needs root to chown"))
    func keyOwnedByAnotherUser() async throws {
        let fixture = try #require(TrustFixture.current)
        let (identity, _) = try await identityWithPrivateKeyCopy(fixture, "dev-owner")
        #expect(chown(identity.key, 4242, 4242) == 0)
        let config = try fixture.config(case: "owner", deviceID: "dev-owner", identity: identity, listener: "good")
        let run = try await TrustFixture.run(config)
        #expect(run.status == 77, "\(run.output)")
        #expect(run.output.contains("is owned by uid 4242, not by the agent's user"), "\(run.output)")
    }

    @Test("key in a world-writable folder")
    func keyInWorldWritableFolder() async throws {
        let fixture = try #require(TrustFixture.current)
        let (identity, keyFolder) = try await identityWithPrivateKeyCopy(fixture, "dev-folder")
        chmod(keyFolder.path, 0o777)
        let config = try fixture.config(case: "folder", deviceID: "dev-folder", identity: identity, listener: "good")
        let run = try await TrustFixture.run(config)
        #expect(run.status == 77, "\(run.output)")
        #expect(run.output.contains("which any user may write (mode 0777)"), "\(run.output)")
        // The sticky bit (like /tmp) stops others replacing the file: accepted.
        chmod(keyFolder.path, 0o1777)
        let check = try await TrustFixture.check(config)
        #expect(check.output.contains("PASS key file"), "\(check.output)")
    }

    @Test("MQTT password file and a config holding a PIN get the key's checks")
    func otherSecretFiles() async throws {
        let fixture = try #require(TrustFixture.current)
        let identity = try await fixture.device("dev-secrets")
        let caseFolder = fixture.folder.appendingPathComponent("case-secrets")
        try FileManager.default.createDirectory(at: caseFolder, withIntermediateDirectories: true)
        let password = caseFolder.appendingPathComponent("password").path
        try "not-a-real-password\n".write(toFile: password, atomically: true, encoding: .utf8)
        chmod(password, 0o644)
        let config = try fixture.config(
            case: "secrets",
            deviceID: "dev-secrets",
            identity: identity,
            listener: "good",
            extraBroker: "username = \"dev-secrets\"\npassword_file = \"\(password)\""
        )
        let run = try await TrustFixture.run(config)
        #expect(run.status == 77, "\(run.output)")
        #expect(run.output.contains("broker.password_file '\(password)' has mode 0644"), "\(run.output)")
        #expect(!run.output.contains("not-a-real-password"), "a secret never appears in output")
        chmod(password, 0o600)
        let check = try await TrustFixture.check(config)
        #expect(check.status == 0, "credentials are sent inside verified TLS and accepted: \(check.output)")

        let pinConfig = try fixture.config(
            case: "pin-in-config",
            deviceID: "dev-secrets",
            identity: identity,
            listener: "good",
            keyFile: "pkcs11:token=none;object=none;type=private;pin-value=1234"
        )
        chmod(pinConfig, 0o644)
        let pinRun = try await TrustFixture.run(pinConfig)
        #expect(pinRun.status == 77, "\(pinRun.output)")
        #expect(pinRun.output.contains("the config file (tls.key_file holds a PIN)"), "\(pinRun.output)")
        #expect(!pinRun.output.contains("1234"), "the PIN never appears in output: \(pinRun.output)")
    }

    @Test("device.id must be the certificate's CN")
    func commonNameMismatch() async throws {
        let fixture = try #require(TrustFixture.current)
        let config = try fixture.config(
            case: "cn",
            deviceID: "dev-0001",
            identity: try await fixture.device("dev-cn-other"),
            listener: "good"
        )
        let check = try await TrustFixture.check(config)
        #expect(check.status == 1)
        #expect(check.output.contains("FAIL certificates:"), "\(check.output)")
        #expect(check.output.contains("device.id 'dev-0001' does not match the CN 'dev-cn-other'"), "\(check.output)")
        #expect(check.output.contains("FAIL tls handshake: skipped"), "\(check.output)")
    }

    @Test("identity from a SAN URI")
    func uriIdentity() async throws {
        let fixture = try #require(TrustFixture.current)
        let identity = try await fixture.device("dev-uri", ["--uri", "urn:pinpost:device:dev-uri"])
        let rule = "identity = \"uri:urn:pinpost:device:{id}\""
        let good = try fixture.config(
            case: "uri-good",
            deviceID: "dev-uri",
            identity: identity,
            listener: "good",
            extraTLS: rule
        )
        let passed = try await TrustFixture.check(good)
        #expect(passed.status == 0, "\(passed.output)")
        #expect(passed.output.contains("identity rule uri:urn:pinpost:device:{id}"), "\(passed.output)")

        let other = try await fixture.device("dev-uri-other", ["--uri", "urn:pinpost:device:someone-else"])
        let bad = try fixture.config(
            case: "uri-bad",
            deviceID: "dev-uri-other",
            identity: other,
            listener: "good",
            extraTLS: rule
        )
        let refused = try await TrustFixture.check(bad)
        #expect(refused.status == 1)
        #expect(
            refused.output.contains("tls.identity requires the SAN URI 'urn:pinpost:device:dev-uri-other'"),
            "\(refused.output)"
        )
        #expect(refused.output.contains("URI:urn:pinpost:device:someone-else"), "\(refused.output)")
    }

    @Test("expired device certificate")
    func expiredDeviceCertificate() async throws {
        let fixture = try #require(TrustFixture.current)
        let identity = try await fixture.device(
            "dev-cert-expired",
            ["--not-before", "10 days ago", "--not-after", "1 day ago"]
        )
        let check = try await TrustFixture.check(
            try fixture.config(
                case: "dev-cert-expired",
                deviceID: "dev-cert-expired",
                identity: identity,
                listener: "good"
            )
        )
        #expect(check.status == 1)
        #expect(check.output.contains("FAIL certificates:"), "\(check.output)")
        #expect(check.output.contains("tls.cert_file '\(identity.certificate)' has expired"), "\(check.output)")
        // Looked at once the broker has read every closed connection on this listener to its end.
        #expect(try await Loopback.waitUntilClosedConnectionsAreRead(port: fixture.port("good")))
        #expect(!fixture.mqttSessionSeen(deviceID: "dev-cert-expired"))
    }

    @Test("a device certificate close to expiry passes with a warning and days left")
    func expiringDeviceCertificate() async throws {
        let fixture = try #require(TrustFixture.current)
        let identity = try await fixture.device(
            "dev-expiring",
            ["--not-before", "1 hour ago", "--not-after", "+10 days -12 hours"]
        )
        let config = try fixture.config(
            case: "dev-expiring",
            deviceID: "dev-expiring",
            identity: identity,
            listener: "good"
        )
        let check = try await TrustFixture.check(config)
        #expect(check.status == 0, "\(check.output)")
        #expect(
            check.output.contains("9 days left (WARNING: the device certificate expires in 9 day(s)"),
            "\(check.output)"
        )
        let quiet = try fixture.config(
            case: "dev-expiring-quiet",
            deviceID: "dev-expiring",
            identity: identity,
            listener: "good",
            extraTLS: "expiry_warning_days = 5"
        )
        let quietCheck = try await TrustFixture.check(quiet)
        #expect(quietCheck.output.contains("9 days left;"), "\(quietCheck.output)")
        #expect(!quietCheck.output.contains("WARNING: the device certificate"), "\(quietCheck.output)")
    }

    @Test("device certificate revoked at the broker")
    func deviceRevokedAtTheBroker() async throws {
        let fixture = try #require(TrustFixture.current)
        // Made and revoked by the fixture; the root CRL listing it is this listener's crlfile.
        let folder = fixture.folder.appendingPathComponent("device-dev-revoked")
        let revoked = TestPKI.Identity(
            certificate: folder.appendingPathComponent("device.crt").path,
            key: folder.appendingPathComponent("device.key").path,
            trustAnchor: fixture.caCertificate
        )
        let check = try await TrustFixture.check(
            try fixture.config(
                case: "dev-revoked",
                deviceID: "dev-revoked",
                identity: revoked,
                listener: "deviceRevoked"
            )
        )
        #expect(check.status == 1, "\(check.output)")
        // With TLS 1.3 the client finishes its handshake before the broker checks the client certificate, so the
        // refusal may arrive as an alert after "tls handshake" passed: either way it must say what happened.
        #expect(
            check.output.contains("the broker refused this device: this device's certificate is revoked"),
            "\(check.output)"
        )
        #expect(check.output.contains("provision a new device certificate"), "\(check.output)")
        // Looked at once the broker has read the check's connection to its end (a CONNECT the agent may have sent
        // after its side of a TLS 1.3 handshake cannot be missed).
        #expect(
            try await Loopback.waitUntilClosedConnectionsAreRead(port: fixture.port("deviceRevoked")),
            "the broker read the check's connection to its end"
        )
        #expect(
            !fixture.mqttSessionSeen(deviceID: "dev-revoked"),
            "the broker never opened a session for a revoked device"
        )
    }
}

/// Keys in hardware: the device key lives only in a SoftHSM2 token and is used through OpenSSL's pkcs11 engine.
extension TrustMatrixTests {
    @Test(
        "PKCS#11 key in SoftHSM2",
        .enabled(
            if: FileManager.default.fileExists(atPath: "/usr/lib/softhsm/libsofthsm2.so")
                && FileManager.default.fileExists(atPath: "/usr/bin/softhsm2-util"),
            "needs softhsm2 and libengine-pkcs11-openssl (board/dev/install-deps)"
        )
    )
    func pkcs11KeyInSoftHSM() async throws {
        let fixture = try #require(TrustFixture.current)
        let identity = try await fixture.device("dev-pkcs11")
        let token = fixture.folder.appendingPathComponent("softhsm")
        try FileManager.default.createDirectory(
            at: token.appendingPathComponent("tokens"),
            withIntermediateDirectories: true
        )
        let softhsmConf = token.appendingPathComponent("softhsm2.conf").path
        try "directories.tokendir = \(token.path)/tokens\nobjectstore.backend = file\nlog.level = ERROR\n"
            .write(toFile: softhsmConf, atomically: true, encoding: .utf8)
        let environment = ["SOFTHSM2_CONF=\(softhsmConf)"]
        try await Command.check(
            "/usr/bin/env",
            environment + [
                "softhsm2-util", "--init-token", "--free", "--label", "pinpost",
                "--so-pin", "1234", "--pin", "5678",
            ]
        )
        let pkcs8 = token.appendingPathComponent("device.p8").path
        try await Command.check(
            "/usr/bin/openssl",
            ["pkcs8", "-topk8", "-nocrypt", "-in", identity.key, "-out", pkcs8]
        )
        try await Command.check(
            "/usr/bin/env",
            environment + [
                "softhsm2-util", "--import", pkcs8, "--token", "pinpost",
                "--label", "devkey", "--id", "01", "--pin", "5678",
            ]
        )
        // From here on the key exists only inside the token.
        try FileManager.default.removeItem(atPath: pkcs8)
        try FileManager.default.removeItem(atPath: identity.key)

        let pinFile = token.appendingPathComponent("pin").path
        try "5678\n".write(toFile: pinFile, atomically: true, encoding: .utf8)
        chmod(pinFile, 0o600)
        let uri = "pkcs11:token=pinpost;object=devkey;type=private"
        let extra = "pkcs11_module = \"/usr/lib/softhsm/libsofthsm2.so\"\npin_file = \"\(pinFile)\""
        let config = try fixture.config(
            case: "pkcs11",
            deviceID: "dev-pkcs11",
            identity: identity,
            listener: "good",
            keyFile: uri,
            extraTLS: extra
        )
        let check = try await TrustFixture.check(config, environment: environment)
        #expect(check.status == 0, "\(check.output)")
        #expect(
            check.output.contains(
                "PASS key file: \(uri) is a hardware key (no key file); \(pinFile) private to this user"
            ),
            "\(check.output)"
        )
        #expect(check.output.contains("PASS mqtt connect"), "\(check.output)")
        #expect(fixture.mqttSessionSeen(deviceID: "dev-pkcs11"))
        #expect(!check.output.contains("5678"), "the PIN never appears in output")

        // A wrong PIN is a clear failure naming the URI and what to check, not a crash or a hang.
        try "0000\n".write(toFile: pinFile, atomically: true, encoding: .utf8)
        chmod(pinFile, 0o600)
        let wrong = try await TrustFixture.check(config, environment: environment)
        #expect(wrong.status == 1, "\(wrong.output)")
        #expect(
            wrong.output.contains("FAIL certificates:") && wrong.output.contains("the PKCS#11 key could not be loaded"),
            "\(wrong.output)"
        )
        #expect(wrong.output.contains("tls.pin_file"), "\(wrong.output)")
    }
}
