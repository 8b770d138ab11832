internal import SystemExtras
public import TLS
internal import Timestamps

/// The device's identity is its certificate: the client id must be named by the certificate,
/// because brokers map the certificate identity to permissions (Mosquitto `use_identity_as_username`,
/// AWS IoT thing policies). A device whose id and certificate disagree would be refused or, worse,
/// act under another device's permissions.
public enum DeviceIdentity {
    /// How `device.id` is tied to the certificate (`tls.identity`).
    public enum Rule: Sendable, Equatable, CustomStringConvertible {
        /// `"cn"`: `device.id` equals the subject CN (the default; what Mosquitto maps to the username).
        case commonName
        /// `"uri:<template>"`: the certificate carries the SAN URI `template` with `{id}` replaced by `device.id`.
        case uri(template: String)
        /// `"none"`: no check, for brokers that do not derive identity from the certificate. Explicit on purpose.
        case unchecked

        public init?(parsing text: String) {
            if text == "cn" {
                self = .commonName
            } else if text == "none" {
                self = .unchecked
            } else if text.hasPrefix("uri:"), text.count > 4 {
                self = .uri(template: String(text.dropFirst(4)))
            } else {
                return nil
            }
        }

        /// The SAN URI a certificate must carry for `deviceID`, for `.uri`.
        public func expectedURI(deviceID: String) -> String? {
            guard case .uri(let template) = self else { return nil }
            return template.replacing("{id}", with: deviceID)
        }

        public var description: String {
            switch self {
            case .commonName: "cn"
            case .uri(let template): "uri:\(template)"
            case .unchecked: "none"
            }
        }
    }

    /// Checks identity, clientAuth and validity at `now` (seconds since the epoch; default: the clock); returns the certificate's status (days left, expiry warning).
    @discardableResult
    public static func check(
        configuration: AgentConfiguration,
        certificate: CertificateSummary,
        now: Int64? = nil
    ) throws(AgentStartupError) -> DeviceCertificateStatus {
        let now = now ?? UTCTime.now().epochMilliseconds / 1000
        let file = configuration.file
        let certFile = configuration.tls.certFile
        let id = configuration.device.id
        switch configuration.tls.identity {
        case .commonName:
            guard certificate.commonName == id else {
                throw AgentStartupError(
                    exitCode: .config,
                    message:
                        "\(file): device.id '\(id)' does not match the CN '\(certificate.commonName ?? "(none)")' of tls.cert_file '\(certFile)'; fix: set device.id to the certificate's CN, or install this device's own certificate"
                )
            }
        case .uri:
            let expected = configuration.tls.identity.expectedURI(deviceID: id) ?? ""
            guard certificate.subjectAlternativeNames.contains("URI:\(expected)") else {
                let uris = certificate.subjectAlternativeNames.filter { $0.hasPrefix("URI:") }
                throw AgentStartupError(
                    exitCode: .config,
                    message:
                        "\(file): tls.identity requires the SAN URI '\(expected)' for device.id '\(id)', but tls.cert_file '\(certFile)' carries \(uris.isEmpty ? "no URI" : uris.joined(separator: ", ")); fix: set device.id to the id in the certificate's URI, or install this device's own certificate"
                )
            }
        case .unchecked:
            break
        }
        guard certificate.allowsClientAuth else {
            throw AgentStartupError(
                exitCode: .config,
                message:
                    "\(file): tls.cert_file '\(certFile)' is not allowed for TLS client authentication (extendedKeyUsage lacks clientAuth); fix: reissue it with provisioning/pinpost-pki device"
            )
        }
        if now < certificate.notBefore || now > certificate.notAfter {
            let state = now < certificate.notBefore ? "is not yet valid" : "has expired"
            throw AgentStartupError(
                exitCode: .config,
                message:
                    "\(file): the device certificate tls.cert_file '\(certFile)' \(state) (\(certificate)); fix: install a current certificate, or check this device's clock"
            )
        }
        return DeviceCertificateStatus(
            certificate: certificate,
            now: now,
            warningDays: configuration.tls.expiryWarningDays
        )
    }
}
