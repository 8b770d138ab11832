internal import CPinpostOpenSSL
internal import CPinpostOpenSSLShims
internal import SystemExtras

/// Reads certificate details through OpenSSL into Swift values.
enum X509Inspection {
    static func summary(of certificate: OpaquePointer) -> CertificateSummary {
        var notBefore: Int64 = 0
        var notAfter: Int64 = 0
        var before: CLongLong = 0
        var after: CLongLong = 0
        if CPinpostOpenSSLShims_X509_validity(certificate, &before, &after) == 1 {
            notBefore = Int64(before)
            notAfter = Int64(after)
        }
        var sanBuffer = [CChar](repeating: 0, count: 4096)
        let sanCount = CPinpostOpenSSLShims_X509_subject_alt_names(certificate, &sanBuffer, sanBuffer.count)
        let sanText = string(from: sanBuffer)
        let names = sanCount > 0 ? sanText.split(separator: ",").map { $0.trimmingSpaces() } : []
        return CertificateSummary(
            subject: distinguishedName(X509_get_subject_name(certificate)),
            issuer: distinguishedName(X509_get_issuer_name(certificate)),
            commonName: commonName(X509_get_subject_name(certificate)),
            subjectAlternativeNames: names,
            notBefore: notBefore,
            notAfter: notAfter,
            allowsClientAuth: CPinpostOpenSSLShims_X509_allows_eku(certificate, NID_client_auth) == 1,
            allowsServerAuth: CPinpostOpenSSLShims_X509_allows_eku(certificate, NID_server_auth) == 1
        )
    }

    /// Loads every certificate of a PEM file (leaf first), or throws naming the file.
    static func loadPEMCertificates(
        path: String,
        kind: TLSError.Kind,
        field: String
    ) throws(TLSError) -> [CertificateSummary] {
        OpenSSLErrors.clear()
        guard let bio = BIO_new_file(path, "r") else {
            throw TLSError(
                kind: kind,
                message:
                    "\(field) '\(path)': cannot open the file (\(OpenSSLErrors.drain())); fix: point \(field) at a readable PEM file"
            )
        }
        defer { BIO_free(bio) }
        var certificates: [CertificateSummary] = []
        while let certificate = PEM_read_bio_X509(bio, nil, nil, nil) {
            certificates.append(summary(of: certificate))
            X509_free(certificate)
        }
        OpenSSLErrors.clear()  // reading past the last certificate leaves a "no start line" entry
        if certificates.isEmpty {
            throw TLSError(
                kind: kind,
                message:
                    "\(field) '\(path)': no PEM certificate found (expected a '-----BEGIN CERTIFICATE-----' block); fix: point \(field) at a PEM certificate file"
            )
        }
        return certificates
    }

    /// A `tls.ca_dir` must be a folder with OpenSSL hash links (`<hash>.0`), or nothing will be trusted from it.
    static func requireHashedDirectory(_ path: String) throws(TLSError) {
        let fix =
            "fix: run `openssl rehash '\(path)'` after copying the CA certificates (PEM) into it, or use tls.ca_file"
        let names: [String]
        do {
            names = try FileSystem.contentsOfDirectory(path)
        } catch {
            throw TLSError(
                kind: .caFile,
                message: "tls.ca_dir '\(path)': cannot open the folder (\(error.code)); \(fix)"
            )
        }
        let hashed = names.filter { name in
            let parts = name.split(separator: ".")
            return parts.count == 2 && parts[0].count == 8 && parts[0].allSatisfy(\.isHexDigit)
                && parts[1].allSatisfy(\.isNumber)
        }.count
        guard hashed > 0 else {
            throw TLSError(
                kind: .caFile,
                message: "tls.ca_dir '\(path)': no hashed certificate links (<hash>.0) in the folder; \(fix)"
            )
        }
    }

    static func distinguishedName(_ name: OpaquePointer?) -> String {
        guard let name, let bio = BIO_new(BIO_s_mem()) else { return "?" }
        defer { BIO_free(bio) }
        let flags = CPinpostOpenSSLShims_XN_FLAG_readable()
        guard X509_NAME_print_ex(bio, name, 0, flags) >= 0 else { return "?" }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 512)
        while true {
            let count = BIO_read(bio, &chunk, Int32(chunk.count))
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<Int(count)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func commonName(_ name: OpaquePointer?) -> String? {
        guard let name else { return nil }
        var buffer = [CChar](repeating: 0, count: 256)
        let length = X509_NAME_get_text_by_NID(name, NID_commonName, &buffer, Int32(buffer.count))
        guard length >= 0 else { return nil }
        return string(from: buffer)
    }

    static func string(from buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map(UInt8.init(bitPattern:)), as: UTF8.self)
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        String(self.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
