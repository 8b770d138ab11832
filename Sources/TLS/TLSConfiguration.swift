/// What a client TLS connection trusts and how it identifies itself.
///
/// Paths are absolute (the agent resolves config-relative paths before building this).
public struct TLSConfiguration: Sendable, Equatable {
    /// Lowest protocol version Pinpost accepts; 1.2 is the floor because older versions lack AEAD-only suites.
    public enum ProtocolVersion: String, Sendable, Equatable {
        case tls12 = "1.2"
        case tls13 = "1.3"
    }

    /// PEM file of trust anchors for the broker's chain (`tls.ca_file`); `nil` when only a folder is used.
    public var caFile: String?
    /// OpenSSL hashed folder of trust anchors (and optionally CRLs), made with `openssl rehash` (`tls.ca_dir`).
    public var caDirectory: String?
    /// PEM file with the device certificate, optionally followed by intermediates.
    public var certificateChainFile: String
    /// Where the device's private key lives: a PEM file, a PKCS#11 token or a TPM.
    public var privateKey: PrivateKeySource
    /// Optional PEM file with one or more CRLs.
    public var crlFile: String?
    /// How much of the broker's chain must be covered by a current CRL.
    public var revocation: RevocationMode
    /// Whether a stapled OCSP response is requested, and whether one is required.
    public var ocsp: OCSPMode
    /// Name the broker's certificate must carry (DNS name or IP literal); also sent as SNI when it is a name.
    public var serverName: String
    public var minimumVersion: ProtocolVersion

    public init(
        caFile: String?,
        caDirectory: String? = nil,
        certificateChainFile: String,
        privateKey: PrivateKeySource,
        crlFile: String? = nil,
        revocation: RevocationMode? = nil,
        ocsp: OCSPMode = .off,
        serverName: String,
        minimumVersion: ProtocolVersion = .tls12
    ) {
        self.caFile = caFile
        self.caDirectory = caDirectory
        self.certificateChainFile = certificateChainFile
        self.privateKey = privateKey
        self.crlFile = crlFile
        self.revocation = revocation ?? (crlFile == nil ? .off : .chain)
        self.ocsp = ocsp
        self.serverName = serverName
        self.minimumVersion = minimumVersion
    }

    /// Where the trust anchors come from, for messages.
    public var trustAnchorDescription: String {
        [caFile.map { "tls.ca_file '\($0)'" }, caDirectory.map { "tls.ca_dir '\($0)'" }]
            .compactMap { $0 }.joined(separator: " and ")
    }
}
