internal import CPinpostOpenSSL
internal import CPinpostOpenSSLShims

extension X509Certificate {
    /// The certificate as PEM text (`-----BEGIN CERTIFICATE-----`), for writing a verified chain to a file.
    public var pem: [UInt8] {
        OpenSSLErrors.clear()
        defer { OpenSSLErrors.clear() }
        guard let bio = BIO_new(BIO_s_mem()) else { return [] }
        defer { BIO_free(bio) }
        guard PEM_write_bio_X509(bio, pointer) == 1 else { return [] }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = BIO_read(bio, &chunk, Int32(chunk.count))
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<Int(count)])
        }
        return bytes
    }

    /// Whether this certificate certifies the same public key as `other` (a renewal that kept its key, say).
    public func hasSameKey(as other: X509Certificate) -> Bool {
        guard let mine = X509_get0_pubkey(pointer), let theirs = X509_get0_pubkey(other.pointer) else { return false }
        return EVP_PKEY_eq(mine, theirs) == 1
    }
}
