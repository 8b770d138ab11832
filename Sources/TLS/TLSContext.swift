internal import CPinpostOpenSSL
internal import CPinpostOpenSSLShims

/// A configured OpenSSL client context: trust anchors, policy and the device identity.
///
/// Built once (loading fails early, naming the file) and shared by every connection attempt.
/// OpenSSL allows an `SSL_CTX` to be used from several threads once it is no longer modified.
public final class TLSContext: @unchecked Sendable {
    let context: OpaquePointer
    public let configuration: TLSConfiguration
    /// The device certificate (leaf) as loaded from `certificateChainFile`.
    public let deviceCertificate: CertificateSummary

    /// TLS 1.2 suites: ECDHE only (forward secrecy) with AEAD ciphers.
    static let tls12CipherList = "ECDHE+AESGCM:ECDHE+CHACHA20"
    static let tls13CipherSuites = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"

    public init(configuration: TLSConfiguration) throws(TLSError) {
        self.configuration = configuration
        OpenSSLErrors.clear()
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw TLSError(kind: .policy, message: "OpenSSL could not create a TLS context: \(OpenSSLErrors.drain())")
        }
        self.context = context
        do {
            self.deviceCertificate = try Self.configure(context, configuration)
        } catch {
            SSL_CTX_free(context)
            throw error
        }
    }

    deinit {
        SSL_CTX_free(context)
    }

    private static func configure(_ context: OpaquePointer, _ configuration: TLSConfiguration) throws(TLSError) -> CertificateSummary {
        let minimum = configuration.minimumVersion == .tls13
            ? CPinpostOpenSSLShims_TLS1_3_VERSION() : CPinpostOpenSSLShims_TLS1_2_VERSION()
        guard CPinpostOpenSSLShims_SSL_CTX_set_min_proto_version(context, minimum) == 1,
              SSL_CTX_set_cipher_list(context, tls12CipherList) == 1,
              SSL_CTX_set_ciphersuites(context, tls13CipherSuites) == 1
        else {
            throw TLSError(kind: .policy, message: "OpenSSL refused Pinpost's TLS policy: \(OpenSSLErrors.drain())")
        }
        SSL_CTX_set_security_level(context, 2)
        _ = CPinpostOpenSSLShims_SSL_CTX_set_mode(context, Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)

        // Trust anchors: only what the configuration names, never the system store.
        _ = try X509Inspection.loadPEMCertificates(path: configuration.caFile, kind: .caFile, field: "tls.ca_file")
        guard SSL_CTX_load_verify_locations(context, configuration.caFile, nil) == 1 else {
            throw TLSError(
                kind: .caFile,
                message: "tls.ca_file '\(configuration.caFile)': OpenSSL could not load it (\(OpenSSLErrors.drain())); fix: point tls.ca_file at the PEM certificate of the CA that signed the broker's certificate"
            )
        }

        if let crlFile = configuration.crlFile {
            try loadCRLs(crlFile, into: context)
        }

        // Device identity: certificate chain, then the key, then that they match.
        let chain = try X509Inspection.loadPEMCertificates(
            path: configuration.certificateChainFile, kind: .certificateFile, field: "tls.cert_file")
        guard SSL_CTX_use_certificate_chain_file(context, configuration.certificateChainFile) == 1 else {
            throw TLSError(
                kind: .certificateFile,
                message: "tls.cert_file '\(configuration.certificateChainFile)': OpenSSL could not use it (\(OpenSSLErrors.drain())); fix: point tls.cert_file at the device certificate in PEM, leaf first"
            )
        }
        guard SSL_CTX_use_PrivateKey_file(context, configuration.privateKeyFile, SSL_FILETYPE_PEM) == 1 else {
            let detail = OpenSSLErrors.drain()
            if detail.contains("key values mismatch") {
                throw keyMismatch(configuration)
            }
            throw TLSError(
                kind: .privateKeyFile,
                message: "tls.key_file '\(configuration.privateKeyFile)': OpenSSL could not load the private key (\(detail)); fix: point tls.key_file at the device's unencrypted PEM private key"
            )
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            OpenSSLErrors.clear()
            throw keyMismatch(configuration)
        }
        return chain[0]
    }

    private static func keyMismatch(_ configuration: TLSConfiguration) -> TLSError {
        TLSError(
            kind: .keyMismatch,
            message: "tls.key_file '\(configuration.privateKeyFile)' does not belong to the certificate in tls.cert_file '\(configuration.certificateChainFile)'; fix: use the key that the device certificate was issued for"
        )
    }

    private static func loadCRLs(_ path: String, into context: OpaquePointer) throws(TLSError) {
        guard let store = SSL_CTX_get_cert_store(context),
              let lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file())
        else {
            throw TLSError(kind: .crlFile, message: "OpenSSL could not prepare CRL checking: \(OpenSSLErrors.drain())")
        }
        let loaded = X509_load_crl_file(lookup, path, X509_FILETYPE_PEM)
        guard loaded > 0 else {
            throw TLSError(
                kind: .crlFile,
                message: "tls.crl_file '\(path)': no CRL could be loaded (\(OpenSSLErrors.drain())); fix: point tls.crl_file at a PEM file with '-----BEGIN X509 CRL-----' blocks, or remove the key"
            )
        }
        X509_STORE_set_flags(store, UInt(X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL))
    }

    /// Starts a client session for one transport connection.
    func makeConnection() throws(TLSError) -> TLSConnection {
        try TLSConnection(context: self)
    }
}
