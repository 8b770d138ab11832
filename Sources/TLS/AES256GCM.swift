internal import CPinpostOpenSSLShims

/// AES-256-GCM with a 96-bit IV and a 128-bit tag: the content encryption of JWE `A256GCM` (RFC 7518 §5.3).
public enum AES256GCM {
    /// Encrypts `plaintext`; returns the ciphertext (same length) and the tag.
    public static func seal(
        key: [UInt8],
        iv: [UInt8],
        aad: [UInt8],
        plaintext: [UInt8]
    ) throws(SignatureFailure) -> (ciphertext: [UInt8], tag: [UInt8]) {
        precondition(key.count == 32 && iv.count == 12, "A256GCM takes a 32-byte key and a 12-byte IV")
        var ciphertext = [UInt8](repeating: 0, count: plaintext.count)
        var tag = [UInt8](repeating: 0, count: 16)
        let sealed = ciphertext.withUnsafeMutableBufferPointer { output in
            CPinpostOpenSSLShims_aes256gcm_seal(
                key,
                iv,
                aad,
                aad.count,
                plaintext,
                plaintext.count,
                output.baseAddress,
                &tag
            )
        }
        guard sealed == 1 else { throw SignatureFailure(code: .encryption, detail: "encryption failed") }
        return (ciphertext, tag)
    }

    /// Decrypts; nil when the tag does not verify (the ciphertext, IV, tag or AAD were altered, or the key is wrong).
    public static func open(key: [UInt8], iv: [UInt8], aad: [UInt8], ciphertext: [UInt8], tag: [UInt8]) -> [UInt8]? {
        guard key.count == 32, iv.count == 12, tag.count == 16 else { return nil }
        var plaintext = [UInt8](repeating: 0, count: ciphertext.count)
        let opened = plaintext.withUnsafeMutableBufferPointer { output in
            CPinpostOpenSSLShims_aes256gcm_open(
                key,
                iv,
                aad,
                aad.count,
                ciphertext,
                ciphertext.count,
                tag,
                output.baseAddress
            )
        }
        return opened == 1 ? plaintext : nil
    }
}
