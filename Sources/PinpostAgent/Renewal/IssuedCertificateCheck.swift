public import TLS

/// What an answer must be before the agent uses it: a certificate that chains to the configured CA, names this
/// device, certifies the key the agent just made, is valid now by the trusted clock (and ends no sooner than the current one),
/// and allows TLS client authentication. Anything else is refused with the reason; the current identity stays.
public enum IssuedCertificateCheck {
    /// Why an issued certificate was refused.
    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        public enum Code: String, Sendable, Equatable {
            case notACertificate = "not-a-certificate"
            case noClientAuth = "no-client-auth"
            case otherIdentity = "other-identity"
            case keyMismatch = "key-mismatch"
            case notYetValid = "not-yet-valid"
            case expired
            case shorter
            case untrustedChain = "untrusted-chain"
        }

        public var code: Code
        public var detail: String

        public var description: String { "\(code.rawValue): \(detail)" }
    }

    /// A certificate that passed: the chain to store (leaf first, without the trust anchor) and its facts.
    public struct Accepted: Sendable {
        public var chainPEM: [UInt8]
        public var summary: CertificateSummary
        public var serial: String
        public var fingerprint: String
    }

    /// - Parameters:
    ///   - pem: the answer's `certificatePem` (a leaf, optionally followed by intermediates).
    ///   - intermediates: intermediates the device already holds (its current chain after the leaf), for CAs that
    ///     send the leaf alone (AWS IoT Core does).
    ///   - now: seconds since the epoch, by the trusted clock.
    ///   - currentNotAfter: the current certificate's end; a "renewal" that ends sooner is refused.
    public static func check(
        pem: [UInt8],
        key: DevicePrivateKey,
        deviceID: String,
        rule: DeviceIdentity.Rule,
        anchors: [X509Certificate],
        intermediates: [X509Certificate],
        now: Int64,
        currentNotAfter: Int64?
    ) -> Result<Accepted, Refusal> {
        let certificates = X509Certificate.certificates(pem: pem)
        guard let leaf = certificates.first else {
            return .failure(Refusal(code: .notACertificate, detail: "certificatePem holds no PEM certificate"))
        }
        let summary = leaf.summary
        guard summary.allowsClientAuth else {
            return .failure(
                Refusal(
                    code: .noClientAuth,
                    detail:
                        "the certificate does not allow TLS client authentication (extendedKeyUsage lacks clientAuth)"
                )
            )
        }
        switch rule {
        case .commonName:
            guard summary.commonName == deviceID else {
                return .failure(
                    Refusal(
                        code: .otherIdentity,
                        detail:
                            "the certificate names CN '\(summary.commonName ?? "(none)")', not this device '\(deviceID)'"
                    )
                )
            }
        case .uri:
            let expected = "URI:" + (rule.expectedURI(deviceID: deviceID) ?? "")
            guard summary.subjectAlternativeNames.contains(expected) else {
                return .failure(
                    Refusal(
                        code: .otherIdentity,
                        detail: "the certificate lacks the SAN \(expected) that tls.identity requires for '\(deviceID)'"
                    )
                )
            }
        case .unchecked:
            break
        }
        guard key.matches(leaf) else {
            return .failure(
                Refusal(code: .keyMismatch, detail: "the certificate does not certify the key this device just made")
            )
        }
        if now < summary.notBefore {
            return .failure(
                Refusal(
                    code: .notYetValid,
                    detail:
                        "valid only from \(CertificateSummary.utc(summary.notBefore)) (now \(CertificateSummary.utc(now)))"
                )
            )
        }
        if now >= summary.notAfter {
            return .failure(
                Refusal(code: .expired, detail: "expired at \(CertificateSummary.utc(summary.notAfter))")
            )
        }
        if let currentNotAfter, summary.notAfter < currentNotAfter {
            return .failure(
                Refusal(
                    code: .shorter,
                    detail:
                        "it ends \(CertificateSummary.utc(summary.notAfter)), before the current certificate does (\(CertificateSummary.utc(currentNotAfter)))"
                )
            )
        }
        switch ClientChainVerification.verify(
            leaf: leaf,
            intermediates: Array(certificates.dropFirst()) + intermediates,
            anchors: anchors
        ) {
        case .failure(let failure):
            return .failure(
                Refusal(
                    code: .untrustedChain,
                    detail: "it does not chain to renewal.ca_file with clientAuth: \(failure)"
                )
            )
        case .success(let chain):
            // Store what the broker needs: the leaf and its intermediates, not the trust anchor.
            let stored = chain.count > 1 ? chain.dropLast() : chain[...]
            return .success(
                Accepted(
                    chainPEM: stored.flatMap(\.pem),
                    summary: summary,
                    serial: leaf.serialHex,
                    fingerprint: leaf.sha256Fingerprint
                )
            )
        }
    }
}
