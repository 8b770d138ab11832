import Testing

@testable import TLS

/// Failures are classified by OpenSSL's codes and by TLSError.kind, never by message text.
@Suite("TLS errors by code")
struct TLSErrorCodeTests {
    func configuration(_ certificates: TestCertificates, key: String) -> TLSConfiguration {
        TLSConfiguration(
            caFile: certificates.certificate,
            certificateChainFile: certificates.certificate,
            privateKey: .file(key),
            serverName: "localhost"
        )
    }

    @Test func theMatchingKeyIsAccepted() throws {
        let certificates = try TestCertificates()
        _ = try TLSContext(configuration: configuration(certificates, key: certificates.key))
    }

    /// OpenSSL's X509_R_KEY_VALUES_MISMATCH (another key of the same type) and X509_R_KEY_TYPE_MISMATCH (an RSA
    /// key for an EC certificate) both mean the key is not the certificate's.
    @Test(arguments: ["other.key", "rsa.key"])
    func aKeyThatIsNotTheCertificatesIsAMismatch(key: String) throws {
        let certificates = try TestCertificates()
        #expect {
            try TLSContext(configuration: configuration(certificates, key: certificates.file(key)))
        } throws: { error in
            guard let error = error as? TLSError else { return false }
            return error.kind == .keyMismatch && !error.isTrustFailure && error.message.contains("fix:")
        }
    }

    @Test func trustFailuresAreVerificationOCSPAndRefusalByTheBroker() {
        let trust: Set<TLSError.Kind> = [.verification, .ocsp, .rejectedByBroker]
        let all: [TLSError.Kind] = [
            .caFile, .certificateFile, .privateKeyFile, .keyMismatch, .crlFile, .policy, .verification, .ocsp,
            .rejectedByBroker, .handshake, .closed,
        ]
        for kind in all {
            #expect(TLSError(kind: kind, message: "m").isTrustFailure == trust.contains(kind), "\(kind)")
        }
    }

    /// The failing path of TLSConnection.init after every stored property is set: the SSL must be freed once
    /// (it was freed there and again in deinit, which glibc reports as a double free and aborts).
    @Test func aConnectionThatCannotBeSetUpFreesItsSessionOnce() throws {
        let certificates = try TestCertificates()
        let context = try TLSContext(configuration: configuration(certificates, key: certificates.key))
        for _ in 0..<50 {
            #expect {
                _ = try TLSConnection(context: context, setHost: { _, _ in 0 })
            } throws: { error in
                (error as? TLSError)?.kind == .policy
            }
        }
        let connection = try TLSConnection(context: context)
        #expect(!connection.handshakeComplete)
    }
}
