internal import CPinpostOpenSSL
internal import CPinpostOpenSSLShims

/// A device's private key in memory: read from a bundle or made on the board (the on-device flow,
/// where it never leaves). Its bytes are only ever written to the key file, never to a log.
public final class DevicePrivateKey {
    let pointer: OpaquePointer

    init(taking pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        EVP_PKEY_free(pointer)
    }

    /// An unencrypted PEM private key; nil when the bytes are not one.
    public convenience init?(pem: [UInt8]) {
        // No password callback and an empty password: an encrypted key fails instead of prompting.
        guard let key = PEMText.read(pem, { PEM_read_bio_PrivateKey($0, nil, nil, nil) }) else { return nil }
        self.init(taking: key)
    }

    /// A key held in hardware (`handle:` in a TPM, `pkcs11:` on a token): a handle whose signing runs inside the
    /// device, so the key can be checked against a certificate without ever leaving it.
    public static func hardware(_ source: PrivateKeySource) throws(KeyMaterialError) -> DevicePrivateKey {
        OpenSSLErrors.clear()
        var error = [CChar](repeating: 0, count: 512)
        let key: OpaquePointer?
        switch source {
        case .file:
            throw KeyMaterialError(code: .hardwareKeyUnavailable, detail: "\(source) is a file, not a hardware key")
        case .tpm(let uri):
            key = CPinpostOpenSSLShims_store_load_private_key("tpm2", uri, &error, error.count)
        case .pkcs11(let uri, let module, let pin):
            key = CPinpostOpenSSLShims_engine_load_private_key("pkcs11", uri, module, pin, &error, error.count)
        }
        guard let key else {
            throw KeyMaterialError(
                code: .hardwareKeyUnavailable,
                detail: "\(source): \(X509Inspection.string(from: error))"
            )
        }
        return DevicePrivateKey(taking: key)
    }

    /// A new EC P-256 key, the type `provisioning/pinpost-pki` makes.
    public static func generateP256() throws(KeyMaterialError) -> DevicePrivateKey {
        OpenSSLErrors.clear()
        guard let key = CPinpostOpenSSLShims_EC_P256_generate() else {
            throw KeyMaterialError(code: .keyGeneration, detail: OpenSSLErrors.drain())
        }
        return DevicePrivateKey(taking: key)
    }

    /// Whether this is the private half of `certificate`'s public key.
    public func matches(_ certificate: X509Certificate) -> Bool {
        OpenSSLErrors.clear()
        defer { OpenSSLErrors.clear() }
        return X509_check_private_key(certificate.pointer, pointer) == 1
    }

    /// The key as unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    public func pem() throws(KeyMaterialError) -> [UInt8] {
        try Self.writePEM(code: .keyEncoding) { bio in
            PEM_write_bio_PrivateKey(bio, pointer, nil, nil, 0, nil, nil)
        }
    }

    /// A PEM certificate request with subject CN=`commonName`, signed with this key (SHA-256): what the
    /// factory certifies in the on-device flow (`pinpost-factory device --csr`).
    public func certificateRequest(commonName: String) throws(KeyMaterialError) -> [UInt8] {
        OpenSSLErrors.clear()
        guard let request = X509_REQ_new() else {
            throw KeyMaterialError(code: .requestSigning, detail: OpenSSLErrors.drain())
        }
        defer { X509_REQ_free(request) }
        let built =
            X509_REQ_set_version(request, 0) == 1
            && X509_NAME_add_entry_by_txt(
                X509_REQ_get_subject_name(request),
                "CN",
                CPinpostOpenSSLShims_MBSTRING_ASC(),
                commonName,
                -1,
                -1,
                0
            ) == 1
            && X509_REQ_set_pubkey(request, pointer) == 1
            && X509_REQ_sign(request, pointer, EVP_sha256()) > 0
        guard built else {
            throw KeyMaterialError(code: .requestSigning, detail: OpenSSLErrors.drain())
        }
        return try Self.writePEM(code: .requestSigning) { bio in PEM_write_bio_X509_REQ(bio, request) }
    }

    private static func writePEM(
        code: KeyMaterialError.Code,
        _ write: (OpaquePointer) -> Int32
    ) throws(KeyMaterialError) -> [UInt8] {
        OpenSSLErrors.clear()
        guard let bio = BIO_new(BIO_s_mem()) else {
            throw KeyMaterialError(code: code, detail: OpenSSLErrors.drain())
        }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else {
            throw KeyMaterialError(code: code, detail: OpenSSLErrors.drain())
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = BIO_read(bio, &chunk, Int32(chunk.count))
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<Int(count)])
        }
        return bytes
    }
}

/// Making or encoding key material failed inside OpenSSL (it does not happen with a working libcrypto).
public struct KeyMaterialError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        case keyGeneration
        case keyEncoding
        case requestSigning
        /// A TPM or PKCS#11 key could not be loaded (provider, token, handle or PIN).
        case hardwareKeyUnavailable
    }

    public var code: Code
    /// OpenSSL's error queue, as text.
    public var detail: String

    public var description: String {
        switch code {
        case .keyGeneration: "cannot generate an EC P-256 key (\(detail))"
        case .keyEncoding: "cannot encode the private key as PEM (\(detail))"
        case .requestSigning: "cannot make the certificate request (\(detail))"
        case .hardwareKeyUnavailable: "cannot load the hardware key (\(detail))"
        }
    }
}
