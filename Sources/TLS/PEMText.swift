internal import CPinpostOpenSSL

/// PEM text in memory, read through a memory BIO: the one place that makes and frees the BIO and leaves
/// OpenSSL's error queue empty (reading past the last object leaves a "no start line" entry behind).
enum PEMText {
    /// Calls `read` with a BIO over `pem`; nil when the BIO cannot be made.
    static func read<T>(_ pem: [UInt8], _ read: (OpaquePointer) -> T?) -> T? {
        OpenSSLErrors.clear()
        defer { OpenSSLErrors.clear() }
        return pem.withUnsafeBytes { raw -> T? in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return read(bio)
        }
    }
}
