internal import Timestamps

/// The parts of an X.509 certificate a person needs to understand a refusal (never the key or full PEM).
public struct CertificateSummary: Sendable, Equatable, CustomStringConvertible {
    /// Subject as a one-line distinguished name, e.g. `CN=dev-0001,O=Pinpost`.
    public var subject: String
    public var issuer: String
    /// The subject's common name, if any.
    public var commonName: String?
    /// Subject alternative names as `DNS:x`, `IP:y`, `URI:z`.
    public var subjectAlternativeNames: [String]
    /// Validity bounds, seconds since the Unix epoch (UTC).
    public var notBefore: Int64
    public var notAfter: Int64
    /// Whether the extended key usage allows TLS client authentication.
    public var allowsClientAuth: Bool
    /// Whether the extended key usage allows TLS server authentication.
    public var allowsServerAuth: Bool

    public init(
        subject: String,
        issuer: String,
        commonName: String?,
        subjectAlternativeNames: [String],
        notBefore: Int64,
        notAfter: Int64,
        allowsClientAuth: Bool,
        allowsServerAuth: Bool
    ) {
        self.subject = subject
        self.issuer = issuer
        self.commonName = commonName
        self.subjectAlternativeNames = subjectAlternativeNames
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.allowsClientAuth = allowsClientAuth
        self.allowsServerAuth = allowsServerAuth
    }

    public var description: String {
        var text = "subject \"\(subject)\", issuer \"\(issuer)\", valid \(Self.utc(notBefore)) to \(Self.utc(notAfter))"
        if !subjectAlternativeNames.isEmpty {
            text += ", names \(subjectAlternativeNames.joined(separator: ", "))"
        }
        return text
    }

    /// Seconds since the epoch as RFC 3339 UTC (`2026-11-23T01:02:03Z`), for messages.
    public static func utc(_ seconds: Int64) -> String {
        UTCTime(epochMilliseconds: seconds * 1000).rfc3339Seconds
    }
}

extension CertificateSummary {
    /// Every certificate in a PEM file, leaf first; for checks that need validity dates
    /// (the clock floor) without building a TLS context.
    public static func load(pemFile path: String, field: String) throws(TLSError) -> [CertificateSummary] {
        try X509Inspection.loadPEMCertificates(path: path, kind: .certificateFile, field: field)
    }
}
