import Foundation
import Testing

/// The broker-certificate matrix: each listener of one real Mosquitto presents one broker certificate;
/// `pinpost check` must pass the good ones and refuse every bad one, for the right reason, before any
/// MQTT byte is sent (the broker never logs "New client connected" for that listener).
@Suite(
    "Trust: broker certificates, revocation and stapling",
    .trustFixture,
    .timeLimit(.minutes(3)),
    .childProcessesEndWithTheTest
)
struct TrustMatrixTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var listener: String
        /// nil: the check must pass; otherwise what the `FAIL tls handshake` line must say.
        var refusal: [String]?
        /// Extra [tls] lines (CRLs, OCSP, trust anchors), with `{root.crl}`-style placeholders.
        var tls: String = ""
        var replacesCAFile = false

        var testDescription: String { name }
    }

    static let brokerCertificates: [Case] = [
        Case(name: "good leaf", listener: "good", refusal: nil),
        Case(name: "good leaf + intermediate", listener: "goodChain", refusal: nil),
        Case(name: "expired", listener: "expired", refusal: ["the certificate has expired", "(10)"]),
        Case(name: "not yet valid", listener: "notYetValid", refusal: ["the certificate is not yet valid", "(9)"]),
        Case(
            name: "wrong host",
            listener: "wrongHost",
            refusal: ["hostname mismatch: expected 'localhost'", "DNS:broker.example.net", "(62)"]
        ),
        Case(
            name: "no matching SAN (CN only)",
            listener: "noSAN",
            refusal: ["hostname mismatch: expected 'localhost'", "no subject alternative names", "(62)"]
        ),
        Case(
            name: "signed by another CA",
            listener: "otherCA",
            refusal: ["untrusted issuer or missing intermediate", "'CN=Other Test CA'", "(20)"]
        ),
        Case(
            name: "self-signed",
            listener: "selfSigned",
            refusal: ["self-signed certificate that is not in tls.ca_file", "(18)"]
        ),
        Case(
            name: "revoked in the CRL",
            listener: "revoked",
            refusal: ["the certificate has been revoked", "(23)"],
            tls: "crl_file = \"{root.crl}\""
        ),
        Case(
            name: "serverAuth missing",
            listener: "noServerAuth",
            refusal: ["not allowed for TLS server authentication", "(26)"]
        ),
        Case(name: "RSA 1024", listener: "rsa1024", refusal: ["too weak for security level 2", "(66)"]),
        Case(name: "issuer is not a CA", listener: "issuerNotCA", refusal: ["issuer is not a CA"]),
        Case(
            name: "missing intermediate",
            listener: "missingIntermediate",
            refusal: ["untrusted issuer or missing intermediate", "'CN=Pinpost Test Intermediate'", "(20)"]
        ),
    ]

    static let policies: [Case] = [
        Case(
            name: "CRL covers the whole chain",
            listener: "good",
            refusal: nil,
            tls: "crl_file = \"{root.crl}\"\ncrl_mode = \"require\""
        ),
        Case(
            name: "CRL missing for the intermediate's issuer",
            listener: "goodChain",
            refusal: ["no CRL from the issuer 'CN=Pinpost Test CA'", "(3)"],
            tls: "crl_file = \"{intermediate.crl}\"\ncrl_mode = \"require\""
        ),
        Case(
            name: "crl_mode leaf needs only the leaf issuer's CRL",
            listener: "goodChain",
            refusal: nil,
            tls: "crl_file = \"{intermediate.crl}\"\ncrl_mode = \"leaf\""
        ),
        Case(
            name: "CRL missing for the leaf's issuer",
            listener: "goodChain",
            refusal: ["no CRL from the issuer 'CN=Pinpost Test Intermediate'", "(3)"],
            tls: "crl_file = \"{root.crl}\"\ncrl_mode = \"leaf\""
        ),
        Case(
            name: "expired CRL",
            listener: "good",
            refusal: ["the CRL from 'CN=Pinpost Test CA' in tls.crl_file has expired", "(12)"],
            tls: "crl_file = \"{expired.crl}\""
        ),
        Case(
            name: "OCSP require against a broker that cannot staple",
            listener: "good",
            refusal: ["OCSP: the broker sent no OCSP staple, and tls.ocsp = \"require\""],
            tls: "ocsp = \"require\""
        ),
        Case(name: "OCSP soft accepts no staple", listener: "good", refusal: nil, tls: "ocsp = \"soft\""),
        Case(
            name: "trust anchors from a hashed ca_dir",
            listener: "good",
            refusal: nil,
            tls: "ca_dir = \"{ca.dir}\"",
            replacesCAFile: true
        ),
        Case(
            name: "ca_dir without the broker's CA",
            listener: "otherCA",
            refusal: ["untrusted issuer or missing intermediate", "(20)"],
            tls: "ca_dir = \"{ca.dir}\"",
            replacesCAFile: true
        ),
    ]

    @Test("broker certificate", arguments: brokerCertificates)
    func brokerCertificate(_ testCase: Case) async throws {
        try await verify(testCase)
    }

    @Test("revocation and trust-anchor policy", arguments: policies)
    func policy(_ testCase: Case) async throws {
        try await verify(testCase)
    }

    private func verify(_ testCase: Case) async throws {
        let fixture = try #require(TrustFixture.current)
        let slug = testCase.name.filter { $0.isLetter || $0.isNumber }
        let deviceID = "dev-\(slug.prefix(40))"
        let tls = testCase.tls
            .replacingOccurrences(of: "{root.crl}", with: fixture.rootCRL)
            .replacingOccurrences(of: "{intermediate.crl}", with: fixture.intermediateCRL)
            .replacingOccurrences(of: "{expired.crl}", with: fixture.expiredCRL)
            .replacingOccurrences(of: "{ca.dir}", with: fixture.caDirectory)
        let config = try fixture.config(
            case: slug,
            deviceID: deviceID,
            identity: try await fixture.device(deviceID),
            listener: testCase.listener,
            tls: testCase.replacesCAFile ? tls : nil,
            extraTLS: testCase.replacesCAFile ? "" : tls
        )
        let result = try await TrustFixture.check(config)
        let output = result.output
        for name in ["config", "key file", "certificates"] {
            #expect(output.contains("PASS \(name):"), "\(name) must pass: \(output)")
        }
        if let refusal = testCase.refusal {
            #expect(result.status == 1, "\(output)")
            let line = output.split(separator: "\n").first {
                $0.hasPrefix("FAIL tls handshake: TLS: broker certificate refused:")
            }
            #expect(line != nil, "\(output)")
            for fragment in refusal {
                #expect(line?.contains(fragment) == true, "'\(fragment)' missing in: \(output)")
            }
            #expect(line?.contains("fix: ") == true, "a refusal names the fix: \(output)")
            #expect(output.contains("FAIL mqtt connect: skipped"), "\(output)")
            // No MQTT session on this listener, looked at once the broker has read the check's connection to its end
            // (so a CONNECT still in its socket cannot be missed).
            #expect(
                try await Loopback.waitUntilClosedConnectionsAreRead(port: fixture.port(testCase.listener)),
                "the broker read the check's connection to its end"
            )
            #expect(!fixture.mqttSessionSeen(deviceID: deviceID), "no MQTT byte may reach an unverified broker")
        } else {
            #expect(result.status == 0, "\(output)")
            #expect(output.contains("PASS tls handshake:"), "\(output)")
            #expect(output.contains("PASS mqtt connect:"), "\(output)")
            #expect(
                fixture.mqttSessionSeen(deviceID: deviceID),
                "the log check sees real sessions: \(fixture.brokerLog.suffix(2000))"
            )
        }
    }
}
