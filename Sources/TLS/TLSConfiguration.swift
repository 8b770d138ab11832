/// What a client TLS connection trusts and how it identifies itself.
///
/// Paths are absolute (the agent resolves config-relative paths before building this).
public struct TLSConfiguration: Sendable, Equatable {
    /// Lowest protocol version Pinpost accepts; 1.2 is the floor because older versions lack AEAD-only suites.
    public enum ProtocolVersion: String, Sendable, Equatable {
        case tls12 = "1.2"
        case tls13 = "1.3"
    }

    /// PEM file of trust anchors for the broker's chain.
    public var caFile: String
    /// PEM file with the device certificate, optionally followed by intermediates.
    public var certificateChainFile: String
    /// PEM file with the device's private key.
    public var privateKeyFile: String
    /// Optional PEM file with one or more CRLs; when set, the whole chain is checked for revocation.
    public var crlFile: String?
    /// Name the broker's certificate must carry (DNS name or IP literal); also sent as SNI when it is a name.
    public var serverName: String
    public var minimumVersion: ProtocolVersion

    public init(
        caFile: String,
        certificateChainFile: String,
        privateKeyFile: String,
        crlFile: String? = nil,
        serverName: String,
        minimumVersion: ProtocolVersion = .tls12
    ) {
        self.caFile = caFile
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
        self.crlFile = crlFile
        self.serverName = serverName
        self.minimumVersion = minimumVersion
    }
}
