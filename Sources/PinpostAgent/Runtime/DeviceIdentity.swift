public import TLS
internal import Timestamps

/// The device's identity is its certificate: the client id must be the certificate's CN,
/// because brokers map the certificate identity to permissions.
public enum DeviceIdentity {
    public static func check(configuration: AgentConfiguration, certificate: CertificateSummary) throws(AgentStartupError) {
        let file = configuration.file
        guard certificate.commonName == configuration.device.id else {
            throw AgentStartupError(
                exitCode: .config,
                message: "\(file): device.id '\(configuration.device.id)' does not match the CN '\(certificate.commonName ?? "(none)")' of tls.cert_file '\(configuration.tls.certFile)'; fix: set device.id to the certificate's CN, or install this device's own certificate"
            )
        }
        guard certificate.allowsClientAuth else {
            throw AgentStartupError(
                exitCode: .config,
                message: "\(file): tls.cert_file '\(configuration.tls.certFile)' is not allowed for TLS client authentication (extendedKeyUsage lacks clientAuth); fix: reissue it with provisioning/pinpost-pki device"
            )
        }
        let now = UTCTime.now().epochMilliseconds / 1000
        if now < certificate.notBefore || now > certificate.notAfter {
            let state = now < certificate.notBefore ? "is not yet valid" : "has expired"
            throw AgentStartupError(
                exitCode: .config,
                message: "\(file): the device certificate tls.cert_file '\(configuration.tls.certFile)' \(state) (\(certificate)); fix: install a current certificate, or check this device's clock"
            )
        }
    }
}
