internal import CPinpostOpenSSL
internal import CPinpostOpenSSLShims

/// One X.509 certificate held by OpenSSL, for checks made outside a TLS connection: a factory bundle's
/// chain, serial and fingerprint, and the manifest signature of the CA that issued it.
public final class X509Certificate {
    let pointer: OpaquePointer

    /// Takes ownership of one reference.
    init(taking pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        X509_free(pointer)
    }

    /// Every certificate of PEM text, in order (a chain file: leaf first); empty when there is none.
    public static func certificates(pem: [UInt8]) -> [X509Certificate] {
        PEMText.read(pem) { bio in
            var certificates: [X509Certificate] = []
            while let certificate = PEM_read_bio_X509(bio, nil, nil, nil) {
                certificates.append(X509Certificate(taking: certificate))
            }
            return certificates
        } ?? []
    }

    /// Subject, issuer, names, validity and purposes, for messages and identity checks.
    public var summary: CertificateSummary {
        X509Inspection.summary(of: pointer)
    }

    /// The serial number in upper-case hex, as `openssl x509 -serial` prints it (and the factory's registry).
    public var serialHex: String {
        guard let serial = X509_get_serialNumber(pointer), let number = ASN1_INTEGER_to_BN(serial, nil) else {
            return ""
        }
        defer { BN_free(number) }
        guard let hex = BN_bn2hex(number) else { return "" }
        defer { CPinpostOpenSSLShims_OPENSSL_free(hex) }
        return String(cString: hex)
    }

    /// SHA-256 of the DER encoding in lower-case hex, as `openssl x509 -fingerprint -sha256` without colons.
    public var sha256Fingerprint: String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_digest(pointer, EVP_sha256(), &digest, &length) == 1 else { return "" }
        return SHA256Digest.hex(digest.prefix(Int(length)))
    }

    /// Whether `signature` is this certificate's key's SHA-256 signature over `data`, as
    /// `openssl dgst -sha256 -sign` makes it (the factory signs each bundle's manifest so).
    public func verifiesSignature(_ signature: [UInt8], over data: [UInt8]) -> Bool {
        OpenSSLErrors.clear()
        defer { OpenSSLErrors.clear() }
        guard let key = X509_get0_pubkey(pointer), let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, EVP_sha256(), nil, key) == 1 else { return false }
        return signature.withUnsafeBufferPointer { signatureBytes in
            data.withUnsafeBufferPointer { dataBytes in
                EVP_DigestVerify(
                    context,
                    signatureBytes.baseAddress,
                    signatureBytes.count,
                    dataBytes.baseAddress,
                    dataBytes.count
                ) == 1
            }
        }
    }
}
