internal import CPinpostOpenSSL

/// Recognises the TLS alerts a broker sends when it refuses this device's certificate, and says so.
///
/// Without this, the device would only log "sslv3 alert certificate revoked (SSL routines)" and an
/// operator would look at the broker's certificate instead of the device's. The alert is recognised by
/// OpenSSL's reason code (SSL_R_*_ALERT_*, the alert number plus SSL_AD_REASON_OFFSET), never by its text.
enum BrokerRefusal {
    private struct Explanation {
        var reason: String
        var fix: String
    }

    private static let known: [Int32: Explanation] = [
        SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED: Explanation(
            reason: "this device's certificate is revoked (the broker's CRL lists it)",
            fix: "provision a new device certificate; the revoked one cannot be used again"
        ),
        SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED: Explanation(
            reason: "the broker says this device's certificate has expired (or the broker's clock is wrong)",
            fix: "renew the device certificate"
        ),
        SSL_R_TLSV1_ALERT_UNKNOWN_CA: Explanation(
            reason: "the broker does not trust the CA that issued this device's certificate",
            fix: "issue the device certificate from the CA in the broker's cafile, or add its CA there"
        ),
        SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED: Explanation(
            reason: "the broker requires a client certificate and got none it accepts",
            fix: "check tls.cert_file and tls.key_file"
        ),
        SSL_R_SSLV3_ALERT_BAD_CERTIFICATE: Explanation(
            reason: "the broker refused this device's certificate",
            fix: "check the broker log; the certificate may be revoked, expired, or lack clientAuth"
        ),
        SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE: Explanation(
            reason: "the broker refused this device's certificate type or purpose",
            fix: "reissue the device certificate with extendedKeyUsage clientAuth"
        ),
        SSL_R_TLSV1_ALERT_ACCESS_DENIED: Explanation(
            reason: "the broker refused this device's certificate (access denied)",
            fix: "check the broker's certificate and ACL configuration"
        ),
    ]

    /// The refusal the error queue reports, or nil when it holds no alert about this device's certificate.
    static func error(_ errors: OpenSSLErrorStack, deviceCertificate: CertificateSummary) -> TLSError? {
        guard let match = errors.reasons(in: ERR_LIB_SSL).lazy.compactMap({ known[$0] }).first else { return nil }
        return TLSError(
            kind: .rejectedByBroker,
            message:
                "the broker refused this device: \(match.reason); device certificate: \(deviceCertificate); TLS alert: \(errors); fix: \(match.fix)",
            certificate: deviceCertificate
        )
    }
}
