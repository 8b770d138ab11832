internal import CPinpostOpenSSL
internal import CPinpostOpenSSLShims

/// Verifies a device certificate as a broker will before the device ever connects: its chain up to
/// the trust anchors, every certificate fit for TLS client authentication, valid now.
public enum ClientChainVerification {
    /// Why the chain was refused: OpenSSL's verify code and text, and the certificate it stopped at.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// X509_V_ERR_*.
        public var code: Int
        public var reason: String
        public var certificate: CertificateSummary?

        public var description: String {
            guard let certificate else { return reason }
            return "\(reason) (at \(certificate))"
        }
    }

    /// The verified chain, leaf first and trust anchor last. With `crlFile` (PEM CRLs) the leaf must also be covered
    /// by a current CRL from its issuer and not be listed in it (`pinpost verify --crl`).
    public static func verify(
        leaf: X509Certificate,
        intermediates: [X509Certificate],
        anchors: [X509Certificate],
        crlFile: String? = nil
    ) -> Result<[X509Certificate], Failure> {
        OpenSSLErrors.clear()
        defer { OpenSSLErrors.clear() }
        guard let store = X509_STORE_new(), let untrusted = CPinpostOpenSSLShims_sk_X509_new_null(),
            let context = X509_STORE_CTX_new()
        else {
            return .failure(Failure(code: -1, reason: "out of memory (\(OpenSSLErrors.drain()))", certificate: nil))
        }
        defer {
            X509_STORE_CTX_free(context)
            CPinpostOpenSSLShims_sk_X509_pop_free(untrusted)
            X509_STORE_free(store)
        }
        for anchor in anchors where X509_STORE_add_cert(store, anchor.pointer) != 1 {
            return .failure(Failure(code: -1, reason: "cannot use a trust anchor (\(OpenSSLErrors.drain()))"))
        }
        if let crlFile {
            guard let lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file()),
                X509_load_crl_file(lookup, crlFile, X509_FILETYPE_PEM) > 0,
                X509_STORE_set_flags(store, UInt(X509_V_FLAG_CRL_CHECK)) == 1
            else {
                return .failure(
                    Failure(code: -1, reason: "cannot load CRLs from \(crlFile) (\(OpenSSLErrors.drain()))")
                )
            }
        }
        for intermediate in intermediates
        where CPinpostOpenSSLShims_sk_X509_push_up_ref(untrusted, intermediate.pointer) != 1 {
            return .failure(Failure(code: -1, reason: "out of memory (\(OpenSSLErrors.drain()))"))
        }
        guard X509_STORE_CTX_init(context, store, leaf.pointer, untrusted) == 1,
            X509_STORE_CTX_set_purpose(context, CPinpostOpenSSLShims_X509_PURPOSE_SSL_CLIENT()) == 1
        else {
            return .failure(Failure(code: -1, reason: "cannot set up the verification (\(OpenSSLErrors.drain()))"))
        }
        guard X509_verify_cert(context) == 1 else {
            let code = X509_STORE_CTX_get_error(context)
            let at = X509_STORE_CTX_get_current_cert(context).map { X509Inspection.summary(of: $0) }
            return .failure(
                Failure(
                    code: Int(code),
                    reason: String(cString: X509_verify_cert_error_string(Int(code))),
                    certificate: at
                )
            )
        }
        guard let chain = X509_STORE_CTX_get1_chain(context) else {
            return .failure(Failure(code: -1, reason: "OpenSSL returned no chain (\(OpenSSLErrors.drain()))"))
        }
        defer { CPinpostOpenSSLShims_sk_X509_pop_free(chain) }
        var verified: [X509Certificate] = []
        for index in 0..<CPinpostOpenSSLShims_sk_X509_num(chain) {
            guard let certificate = CPinpostOpenSSLShims_sk_X509_value(chain, index), X509_up_ref(certificate) == 1
            else { continue }
            verified.append(X509Certificate(taking: certificate))
        }
        return .success(verified)
    }
}

extension ClientChainVerification.Failure {
    init(code: Int, reason: String) {
        self.init(code: code, reason: reason, certificate: nil)
    }
}
