internal import CPinpostOpenSSL
internal import CPinpostOpenSSLShims

/// An EC P-256 public key: a device certificate's (to check ES256 signatures), an operator's (to encrypt readings
/// to), or a JWE's ephemeral key (`epk`, to decrypt).
public final class ECPublicKey {
    let pointer: OpaquePointer

    init(taking pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        EVP_PKEY_free(pointer)
    }

    /// A PEM `PUBLIC KEY`, or the first certificate of PEM text; nil unless it holds a P-256 key.
    public convenience init?(pem: [UInt8]) {
        if let key = PEMText.read(pem, { PEM_read_bio_PUBKEY($0, nil, nil, nil) }) {
            self.init(taking: key)
        } else if let certificate = X509Certificate.certificates(pem: pem).first,
            let key = certificate.publicKeyPointer()
        {
            self.init(taking: key)
        } else {
            return nil
        }
        guard isP256 else { return nil }
    }

    /// A JWK's coordinates (32 bytes each); nil when they are not a point on P-256.
    public convenience init?(x: [UInt8], y: [UInt8]) {
        guard x.count == 32, y.count == 32, let key = CPinpostOpenSSLShims_p256_from_xy(x, y) else { return nil }
        self.init(taking: key)
    }

    public var isP256: Bool { CPinpostOpenSSLShims_is_p256(pointer) == 1 }

    /// The coordinates (32 bytes each), as a JWK carries them.
    public var coordinates: (x: [UInt8], y: [UInt8])? {
        var x = [UInt8](repeating: 0, count: 32)
        var y = [UInt8](repeating: 0, count: 32)
        guard CPinpostOpenSSLShims_p256_public_xy(pointer, &x, &y) == 1 else { return nil }
        return (x, y)
    }

    /// Whether `signature` (r‖s, 64 bytes) is an ES256 signature by this key over `message`.
    public func verifiesES256(_ signature: [UInt8], over message: [UInt8]) -> Bool {
        guard signature.count == 64 else { return false }
        OpenSSLErrors.clear()
        defer { OpenSSLErrors.clear() }
        return message.withUnsafeBufferPointer { input in
            CPinpostOpenSSLShims_es256_verify(pointer, input.baseAddress, input.count, signature) == 1
        }
    }
}

extension X509Certificate {
    /// The certificate's public key when it is P-256: the key that checks the device's signed readings.
    public var publicKey: ECPublicKey? {
        guard let key = publicKeyPointer() else { return nil }
        let publicKey = ECPublicKey(taking: key)
        return publicKey.isP256 ? publicKey : nil
    }

    /// One new reference to the public key.
    func publicKeyPointer() -> OpaquePointer? {
        X509_get_pubkey(pointer)
    }

    /// The DER encoding: what JWS `x5c` carries (in standard base64) and `x5t#S256` hashes.
    public var der: [UInt8] {
        var buffer: UnsafeMutablePointer<UInt8>? = nil
        let length = i2d_X509(pointer, &buffer)
        guard length > 0, let buffer else { return [] }
        defer { CPinpostOpenSSLShims_OPENSSL_free(buffer) }
        return Array(UnsafeBufferPointer(start: buffer, count: Int(length)))
    }

    /// A certificate from its DER encoding; nil when the bytes are not one.
    public static func certificate(der: [UInt8]) -> X509Certificate? {
        OpenSSLErrors.clear()
        defer { OpenSSLErrors.clear() }
        return der.withUnsafeBufferPointer { bytes -> X509Certificate? in
            var cursor: UnsafePointer<UInt8>? = bytes.baseAddress
            guard let certificate = d2i_X509(nil, &cursor, bytes.count) else { return nil }
            return X509Certificate(taking: certificate)
        }
    }
}
