internal import CPinpostOpenSSL
internal import CPinpostOpenSSLShims

extension DevicePrivateKey {
    /// Whether this is an EC P-256 key, the only kind JWS ES256 (signed readings) and ECDH-ES on P-256 take.
    public var isP256: Bool {
        CPinpostOpenSSLShims_is_p256(pointer) == 1
    }

    /// ECDSA P-256 with SHA-256 over `message`, as JWS ES256 wants it: r‖s, 32 bytes each (RFC 7518 §3.4).
    /// Made through EVP_DigestSign, so a key in a TPM or on a PKCS#11 token signs where it lives, through the
    /// same provider or engine as the TLS handshake.
    public func signES256(_ message: [UInt8]) throws(SignatureFailure) -> [UInt8] {
        OpenSSLErrors.clear()
        var signature = [UInt8](repeating: 0, count: 64)
        let signed = message.withUnsafeBufferPointer { input in
            CPinpostOpenSSLShims_es256_sign(pointer, input.baseAddress, input.count, &signature)
        }
        guard signed == 1 else {
            throw SignatureFailure(code: .signing, detail: OpenSSLErrors.drain())
        }
        return signature
    }

    /// The public point's coordinates (32 bytes each): a JWK's `x` and `y` (the JWE `epk` of an ephemeral key).
    public func publicCoordinates() throws(SignatureFailure) -> (x: [UInt8], y: [UInt8]) {
        var x = [UInt8](repeating: 0, count: 32)
        var y = [UInt8](repeating: 0, count: 32)
        guard CPinpostOpenSSLShims_p256_public_xy(pointer, &x, &y) == 1 else {
            throw SignatureFailure(code: .keyNotP256, detail: "not an EC P-256 key")
        }
        return (x, y)
    }

    /// ECDH with `peer`: the shared secret Z (32 bytes), input of JWE ECDH-ES's key derivation.
    public func sharedSecret(with peer: ECPublicKey) throws(SignatureFailure) -> [UInt8] {
        OpenSSLErrors.clear()
        var secret = [UInt8](repeating: 0, count: 32)
        guard CPinpostOpenSSLShims_p256_ecdh(pointer, peer.pointer, &secret) == 1 else {
            throw SignatureFailure(code: .keyAgreement, detail: OpenSSLErrors.drain())
        }
        return secret
    }
}

/// Signing, key agreement or encryption failed inside OpenSSL, or a key is not the kind it must be.
public struct SignatureFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        case signing
        case keyNotP256
        case keyAgreement
        case encryption
    }

    public var code: Code
    /// OpenSSL's error queue, or what was wrong, as text.
    public var detail: String

    public init(code: Code, detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String {
        switch code {
        case .signing: "cannot sign with the device key (\(detail))"
        case .keyNotP256: "the key is not an EC P-256 key (\(detail))"
        case .keyAgreement: "ECDH key agreement failed (\(detail))"
        case .encryption: "AES-256-GCM failed (\(detail))"
        }
    }
}
