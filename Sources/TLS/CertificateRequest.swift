internal import CPinpostOpenSSL
internal import CPinpostOpenSSLShims

/// A PEM certificate request (PKCS#10) as a CA receives it: who it names, whether it is signed by the key it
/// carries, and whether that key is strong enough to certify. The CA certifies the key, never the subject the
/// request proposes: the device id comes from where the request arrived.
public final class CertificateRequest {
    let pointer: OpaquePointer

    deinit {
        X509_REQ_free(pointer)
    }

    /// The first request in PEM text; nil when there is none.
    public init?(pem: [UInt8]) {
        let request = PEMText.read(pem) { PEM_read_bio_X509_REQ($0, nil, nil, nil) }
        guard let request else { return nil }
        pointer = request
    }

    /// The subject's common name, if any.
    public var commonName: String? {
        X509Inspection.commonName(X509_REQ_get_subject_name(pointer))
    }

    /// Whether the request is signed by the private half of the key it carries (proof of possession).
    public var hasValidSelfSignature: Bool {
        OpenSSLErrors.clear()
        defer { OpenSSLErrors.clear() }
        guard let key = X509_REQ_get0_pubkey(pointer) else { return false }
        return X509_REQ_verify(pointer, key) == 1
    }

    /// The key's kind and size for messages: `EC P-256`, `RSA 2048`.
    public var keyDescription: String {
        guard let key = X509_REQ_get0_pubkey(pointer) else { return "no key" }
        if EVP_PKEY_get_base_id(key) == EVP_PKEY_EC {
            return "EC \(Self.curveName(key) ?? "?")"
        }
        if EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA {
            return "RSA \(EVP_PKEY_get_bits(key))"
        }
        return "\(String(cString: OBJ_nid2sn(EVP_PKEY_get_base_id(key)))) \(EVP_PKEY_get_bits(key))"
    }

    /// EC keys on P-256, P-384 or P-521, or RSA of at least 2048 bits: what brokers at security level 2 and AWS IoT
    /// Core accept.
    public var hasAcceptableKey: Bool {
        guard let key = X509_REQ_get0_pubkey(pointer) else { return false }
        if EVP_PKEY_get_base_id(key) == EVP_PKEY_EC {
            return ["P-256", "P-384", "P-521"].contains(Self.curveName(key) ?? "")
        }
        if EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA {
            return EVP_PKEY_get_bits(key) >= 2048
        }
        return false
    }

    /// Whether `certificate` certifies this request's key.
    public func hasSameKey(as certificate: X509Certificate) -> Bool {
        guard let mine = X509_REQ_get0_pubkey(pointer), let theirs = X509_get0_pubkey(certificate.pointer) else {
            return false
        }
        return EVP_PKEY_eq(mine, theirs) == 1
    }

    private static func curveName(_ key: OpaquePointer) -> String? {
        var buffer = [CChar](repeating: 0, count: 64)
        var length = 0
        guard EVP_PKEY_get_group_name(key, &buffer, buffer.count, &length) == 1 else { return nil }
        let name = X509Inspection.string(from: buffer)
        switch name {
        case "prime256v1", "P-256": return "P-256"
        case "secp384r1", "P-384": return "P-384"
        case "secp521r1", "P-521": return "P-521"
        default: return name
        }
    }
}
