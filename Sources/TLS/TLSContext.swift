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
        let made: OpaquePointer?
        if case .tpm = configuration.privateKey {
            // A TPM key's signature must be computed by the provider that holds it: with the default query
            // libssl fetches ECDSA from the default provider, exports the key to it (the public half only)
            // and the handshake fails with "missing private key". Prefer tpm2 for this context's fetches.
            made = SSL_CTX_new_ex(nil, "?provider=tpm2", TLS_client_method())
        } else {
            made = SSL_CTX_new(TLS_client_method())
        }
        guard let context = made else {
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

    private static func configure(
        _ context: OpaquePointer,
        _ configuration: TLSConfiguration
    ) throws(TLSError) -> CertificateSummary {
        let minimum =
            configuration.minimumVersion == .tls13
            ? CPinpostOpenSSLShims_TLS1_3_VERSION() : CPinpostOpenSSLShims_TLS1_2_VERSION()
        guard CPinpostOpenSSLShims_SSL_CTX_set_min_proto_version(context, minimum) == 1,
            SSL_CTX_set_cipher_list(context, tls12CipherList) == 1,
            SSL_CTX_set_ciphersuites(context, tls13CipherSuites) == 1
        else {
            throw TLSError(kind: .policy, message: "OpenSSL refused Pinpost's TLS policy: \(OpenSSLErrors.drain())")
        }
        SSL_CTX_set_security_level(context, 2)
        _ = CPinpostOpenSSLShims_SSL_CTX_set_mode(
            context,
            Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER)
        )
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        // The broker's leaf must be fit for TLS server authentication (EKU serverAuth when an EKU is present).
        guard SSL_CTX_set_purpose(context, CPinpostOpenSSLShims_X509_PURPOSE_SSL_SERVER()) == 1 else {
            throw TLSError(kind: .policy, message: "OpenSSL refused the TLS server purpose: \(OpenSSLErrors.drain())")
        }

        try loadTrustAnchors(configuration, into: context)
        try configureRevocation(configuration, context: context)
        guard CPinpostOpenSSLShims_SSL_CTX_set_ocsp_mode(context, ocspModeCode(configuration.ocsp)) == 1 else {
            throw TLSError(
                kind: .policy,
                message: "OpenSSL could not enable OCSP stapling (tls.ocsp): \(OpenSSLErrors.drain())"
            )
        }

        // Device identity: certificate chain, then the key, then that they match.
        let chain = try X509Inspection.loadPEMCertificates(
            path: configuration.certificateChainFile,
            kind: .certificateFile,
            field: "tls.cert_file"
        )
        guard SSL_CTX_use_certificate_chain_file(context, configuration.certificateChainFile) == 1 else {
            throw TLSError(
                kind: .certificateFile,
                message:
                    "tls.cert_file '\(configuration.certificateChainFile)': OpenSSL could not use it (\(OpenSSLErrors.drain())); fix: point tls.cert_file at the device certificate in PEM, leaf first"
            )
        }
        try PrivateKeyLoader.use(configuration.privateKey, in: context, configuration: configuration)
        guard SSL_CTX_check_private_key(context) == 1 else {
            OpenSSLErrors.clear()
            throw keyMismatch(configuration)
        }
        return chain[0]
    }

    static func ocspModeCode(_ mode: OCSPMode) -> Int32 {
        switch mode {
        case .off: 0
        case .soft: 1
        case .require: 2
        }
    }

    /// Trust anchors: only what the configuration names (`tls.ca_file`, `tls.ca_dir`), never the system store.
    private static func loadTrustAnchors(
        _ configuration: TLSConfiguration,
        into context: OpaquePointer
    ) throws(TLSError) {
        guard configuration.caFile != nil || configuration.caDirectory != nil else {
            throw TLSError(
                kind: .caFile,
                message:
                    "no trust anchors: neither tls.ca_file nor tls.ca_dir is set; fix: set tls.ca_file to the PEM certificate of the CA that signed the broker's certificate"
            )
        }
        if let caFile = configuration.caFile {
            _ = try X509Inspection.loadPEMCertificates(path: caFile, kind: .caFile, field: "tls.ca_file")
        }
        if let caDirectory = configuration.caDirectory {
            try X509Inspection.requireHashedDirectory(caDirectory)
        }
        guard SSL_CTX_load_verify_locations(context, configuration.caFile, configuration.caDirectory) == 1 else {
            throw TLSError(
                kind: .caFile,
                message:
                    "\(configuration.trustAnchorDescription): OpenSSL could not load the trust anchors (\(OpenSSLErrors.drain())); fix: point tls.ca_file at the PEM certificate of the CA that signed the broker's certificate, or tls.ca_dir at a folder prepared with `openssl rehash`"
            )
        }
    }

    private static func configureRevocation(_ configuration: TLSConfiguration, context: OpaquePointer) throws(TLSError)
    {
        guard configuration.revocation != .off else { return }
        guard let store = SSL_CTX_get_cert_store(context) else {
            throw TLSError(kind: .crlFile, message: "OpenSSL could not prepare CRL checking: \(OpenSSLErrors.drain())")
        }
        if let crlFile = configuration.crlFile {
            try loadCRLs(crlFile, into: store)
        } else if configuration.caDirectory == nil {
            throw TLSError(
                kind: .crlFile,
                message:
                    "tls.crl_mode = \"\(configuration.revocation.rawValue)\" but there is no CRL: neither tls.crl_file nor tls.ca_dir is set; fix: set tls.crl_file to the CA's PEM CRL, or set tls.crl_mode = \"off\""
            )
        }
        // CRL_CHECK: the leaf needs a current CRL from its issuer; CRL_CHECK_ALL: every certificate in the chain.
        var flags = UInt(X509_V_FLAG_CRL_CHECK)
        if configuration.revocation == .chain {
            flags |= UInt(X509_V_FLAG_CRL_CHECK_ALL)
        }
        X509_STORE_set_flags(store, flags)
    }

    private static func keyMismatch(_ configuration: TLSConfiguration) -> TLSError {
        PrivateKeyLoader.mismatch(configuration)
    }

    private static func loadCRLs(_ path: String, into store: OpaquePointer) throws(TLSError) {
        guard let lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file()) else {
            throw TLSError(kind: .crlFile, message: "OpenSSL could not prepare CRL checking: \(OpenSSLErrors.drain())")
        }
        let loaded = X509_load_crl_file(lookup, path, X509_FILETYPE_PEM)
        guard loaded > 0 else {
            throw TLSError(
                kind: .crlFile,
                message:
                    "tls.crl_file '\(path)': no CRL could be loaded (\(OpenSSLErrors.drain())); fix: point tls.crl_file at a PEM file with '-----BEGIN X509 CRL-----' blocks, or remove it and set tls.crl_mode = \"off\""
            )
        }
    }

    /// The earliest `nextUpdate` of the CRLs in `tls.crl_file` (seconds since the epoch), so a check can say
    /// when the CRL must be refreshed; `nil` without a CRL file.
    public var crlNextUpdate: Int64? {
        guard let crlFile = configuration.crlFile else { return nil }
        var earliest: CLongLong = -1
        guard CPinpostOpenSSLShims_crl_file_summary(crlFile, &earliest) > 0, earliest >= 0 else { return nil }
        return Int64(earliest)
    }

    /// Starts a client session for one transport connection.
    func makeConnection() throws(TLSError) -> TLSConnection {
        try TLSConnection(context: self)
    }
}
