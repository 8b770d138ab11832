/// Recognises the TLS alerts a broker sends when it refuses this device's certificate, and says so.
///
/// Without this, the device would only log "sslv3 alert certificate revoked (SSL routines)" and an
/// operator would look at the broker's certificate instead of the device's.
enum BrokerRefusal {
    static func error(openSSLDetail detail: String, deviceCertificate: CertificateSummary) -> TLSError? {
        let known: [(alert: String, reason: String, fix: String)] = [
            (
                "alert certificate revoked", "this device's certificate is revoked (the broker's CRL lists it)",
                "provision a new device certificate; the revoked one cannot be used again"
            ),
            (
                "alert certificate expired",
                "the broker says this device's certificate has expired (or the broker's clock is wrong)",
                "renew the device certificate"
            ),
            (
                "alert unknown ca", "the broker does not trust the CA that issued this device's certificate",
                "issue the device certificate from the CA in the broker's cafile, or add its CA there"
            ),
            (
                "alert certificate required", "the broker requires a client certificate and got none it accepts",
                "check tls.cert_file and tls.key_file"
            ),
            (
                "alert bad certificate", "the broker refused this device's certificate",
                "check the broker log; the certificate may be revoked, expired, or lack clientAuth"
            ),
            (
                "alert unsupported certificate", "the broker refused this device's certificate type or purpose",
                "reissue the device certificate with extendedKeyUsage clientAuth"
            ),
            (
                "alert access denied", "the broker refused this device's certificate (access denied)",
                "check the broker's certificate and ACL configuration"
            ),
        ]
        guard let match = known.first(where: { detail.contains($0.alert) }) else { return nil }
        return TLSError(
            kind: .rejectedByBroker,
            message:
                "the broker refused this device: \(match.reason); device certificate: \(deviceCertificate); TLS alert: \(detail); fix: \(match.fix)",
            certificate: deviceCertificate
        )
    }
}
