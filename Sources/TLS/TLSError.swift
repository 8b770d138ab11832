/// A TLS failure explained in words: what failed, on which file or certificate, and the likely fix.
/// `kind` is its code: callers decide on it (and on ``isTrustFailure``), never on the message.
public struct TLSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Broad kinds a caller can react to (e.g. certificate failures take the slow reconnect path).
    public enum Kind: String, Sendable, Equatable {
        case caFile
        case certificateFile
        case privateKeyFile
        case keyMismatch
        case crlFile
        case policy
        case verification
        /// The broker's OCSP staple was missing (with `tls.ocsp = "require"`), invalid, or not "good".
        case ocsp
        /// The broker refused this device's certificate (a TLS alert such as "certificate revoked").
        case rejectedByBroker
        case handshake
        case closed
    }

    public var kind: Kind
    /// Human-readable explanation, including the fix.
    public var message: String
    /// OpenSSL's verify result code (X509_V_ERR_*), when the failure is a certificate verification.
    public var verifyCode: Int?
    /// The certificate that failed verification, when known.
    public var certificate: CertificateSummary?

    public init(kind: Kind, message: String, verifyCode: Int? = nil, certificate: CertificateSummary? = nil) {
        self.kind = kind
        self.message = message
        self.verifyCode = verifyCode
        self.certificate = certificate
    }

    public var description: String { message }

    /// Whether trust failed rather than the connection: the broker's certificate did not verify, its OCSP
    /// staple refused it, or the broker refused this device's certificate. Retrying soon will not help, so
    /// callers reconnect slowly and say so. The one place that decides what a trust failure is.
    public var isTrustFailure: Bool {
        switch kind {
        case .verification, .ocsp, .rejectedByBroker: true
        case .caFile, .certificateFile, .privateKeyFile, .keyMismatch, .crlFile, .policy, .handshake, .closed: false
        }
    }
}
