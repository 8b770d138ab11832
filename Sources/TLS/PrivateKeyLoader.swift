internal import CPinpostOpenSSL
internal import CPinpostOpenSSLShims

/// Puts the device's private key into a context, from a file, a PKCS#11 token or a TPM.
///
/// Hardware keys are loaded as OpenSSL `EVP_PKEY` handles whose signing runs inside the token;
/// the key material never enters this process.
enum PrivateKeyLoader {
    static func use(
        _ source: PrivateKeySource,
        in context: OpaquePointer,
        configuration: TLSConfiguration
    ) throws(TLSError) {
        OpenSSLErrors.clear()
        switch source {
        case .file(let path):
            guard SSL_CTX_use_PrivateKey_file(context, path, SSL_FILETYPE_PEM) == 1 else {
                let detail = OpenSSLErrors.drainStack()
                if isMismatch(detail) {
                    throw mismatch(configuration)
                }
                throw TLSError(
                    kind: .privateKeyFile,
                    message:
                        "tls.key_file '\(path)': OpenSSL could not load the private key (\(detail)); fix: point tls.key_file at the device's unencrypted PEM private key"
                )
            }
        case .pkcs11(let uri, let module, let pin):
            var error = [CChar](repeating: 0, count: 512)
            guard
                let key = CPinpostOpenSSLShims_engine_load_private_key("pkcs11", uri, module, pin, &error, error.count)
            else {
                throw TLSError(
                    kind: .privateKeyFile,
                    message:
                        "tls.key_file '\(source)': the PKCS#11 key could not be loaded (\(X509Inspection.string(from: error))); fix: check the token and object in the URI (`p11tool --list-all` or `pkcs11-tool --list-objects`), tls.pkcs11_module and tls.pin_file"
                )
            }
            try useKey(key, source: source, context: context, configuration: configuration)
        case .tpm(let uri):
            var error = [CChar](repeating: 0, count: 512)
            guard let key = CPinpostOpenSSLShims_store_load_private_key("tpm2", uri, &error, error.count) else {
                throw TLSError(
                    kind: .privateKeyFile,
                    message:
                        "tls.key_file '\(source)': the TPM key could not be loaded (\(X509Inspection.string(from: error))); fix: install tpm2-openssl (and tpm2-abrmd with libtss2-tcti-tabrmd0), set TPM2OPENSSL_TCTI as the shipped drop-in pinpost-tpm.conf does (tabrmd:bus_name=com.intel.tss2.Tabrmd) and check the persistent handle with `tpm2_getcap handles-persistent`"
                )
            }
            try useKey(key, source: source, context: context, configuration: configuration)
        }
    }

    private static func useKey(
        _ key: OpaquePointer,
        source: PrivateKeySource,
        context: OpaquePointer,
        configuration: TLSConfiguration
    ) throws(TLSError) {
        defer { EVP_PKEY_free(key) }  // the context holds its own reference
        guard SSL_CTX_use_PrivateKey(context, key) == 1 else {
            let detail = OpenSSLErrors.drainStack()
            if isMismatch(detail) {
                throw mismatch(configuration)
            }
            throw TLSError(
                kind: .privateKeyFile,
                message:
                    "tls.key_file '\(source)': OpenSSL could not use the key (\(detail)); fix: check that the token holds the device certificate's private key"
            )
        }
    }

    /// OpenSSL's X509_check_private_key refused the pair: the key's public half is not the certificate's
    /// (X509_R_KEY_VALUES_MISMATCH), or it is another kind of key altogether (X509_R_KEY_TYPE_MISMATCH).
    static func isMismatch(_ errors: OpenSSLErrorStack) -> Bool {
        errors.contains(library: ERR_LIB_X509, reason: X509_R_KEY_VALUES_MISMATCH)
            || errors.contains(library: ERR_LIB_X509, reason: X509_R_KEY_TYPE_MISMATCH)
    }

    static func mismatch(_ configuration: TLSConfiguration) -> TLSError {
        TLSError(
            kind: .keyMismatch,
            message:
                "tls.key_file '\(configuration.privateKey)' does not belong to the certificate in tls.cert_file '\(configuration.certificateChainFile)'; fix: use the key that the device certificate was issued for"
        )
    }
}
