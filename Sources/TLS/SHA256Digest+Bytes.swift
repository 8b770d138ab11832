internal import CPinpostOpenSSL

extension SHA256Digest {
    /// SHA-256 of the concatenation of `parts`, as 32 raw bytes, without joining them first (the readings' hash
    /// chain hashes the previous link, the topic and the payload for every reading).
    public static func bytes(_ parts: [UInt8]...) -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { preconditionFailure("EVP_MD_CTX_new failed: out of memory") }
        defer { EVP_MD_CTX_free(context) }
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        var done = EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1
        for part in parts where done {
            done = part.withUnsafeBufferPointer { EVP_DigestUpdate(context, $0.baseAddress, $0.count) } == 1
        }
        done = done && EVP_DigestFinal_ex(context, &digest, &length) == 1
        precondition(done && length == 32, "EVP_Digest(SHA-256) failed: OpenSSL has no SHA-256")
        return digest
    }
}
