internal import SystemExtras
internal import SystemPackage
internal import TLS
internal import Timestamps

/// Signs, revokes and publishes the CRL with the factory's own CA tooling (`provisioning/pinpost-pki` over the
/// `openssl ca` database in `<factory>/ca`), so the responder and `pinpost-factory` keep one database, one serial
/// counter and one CRL.
struct CertificateSigner: Sendable {
    let configuration: ResponderConfiguration

    struct Issued: Sendable {
        /// Leaf, then the factory intermediate(s): what `certificatePem` carries.
        var chainPEM: [UInt8]
        var serial: String
        var fingerprint: String
        var notAfter: Int64
    }

    /// Certifies the key of `csr` as CN=`deviceID` with clientAuth, valid for `ca.validity` from now.
    func sign(csr: [UInt8], deviceID: String, now: Int64) throws(ResponderFailure) -> Issued {
        let work: String
        do {
            work = try FileSystem.createTemporaryDirectory(in: configuration.factoryDirectory, prefix: ".sign-")
        } catch {
            throw ResponderFailure(.internalError, "cannot make a work folder: \(error)")
        }
        defer { Self.removeTree(work) }
        do {
            try FileSystem.writeFileAtomically(work + "/request.csr", csr)
        } catch {
            throw ResponderFailure(.internalError, "cannot write the request: \(error)")
        }
        let notAfter = now + configuration.validity.components.seconds
        try run([
            "device", configuration.caDirectory, work + "/out", "--id", deviceID, "--csr", work + "/request.csr",
            "--not-after", "@\(notAfter)",
        ])
        let chainFile = FileSystem.exists(work + "/out/device-chain.crt") ? "/out/device-chain.crt" : "/out/device.crt"
        guard let chain = try? FileSystem.readFile(work + chainFile, limit: 1 << 20),
            let leaf = X509Certificate.certificates(pem: chain).first
        else {
            throw ResponderFailure(.internalError, "pinpost-pki left no certificate in \(work)/out")
        }
        return Issued(
            chainPEM: chain,
            serial: leaf.serialHex,
            fingerprint: leaf.sha256Fingerprint,
            notAfter: leaf.summary.notAfter
        )
    }

    /// The certificate with this serial, from the CA database (`ca/newcerts/<serial>.pem`).
    func certificate(serial: String) -> X509Certificate? {
        guard
            let bytes = try? FileSystem.readFile(configuration.caDirectory + "/newcerts/\(serial).pem", limit: 1 << 20)
        else { return nil }
        return X509Certificate.certificates(pem: bytes).first
    }

    /// Marks the certificate revoked (reason superseded) in the CA database.
    func revoke(serial: String) throws(ResponderFailure) {
        try run([
            "revoke", configuration.caDirectory, configuration.caDirectory + "/newcerts/\(serial).pem",
            "--reason", "superseded",
        ])
    }

    /// Writes the CRL to the factory's `crl.pem` and `ca.crl_file`, then runs `ca.crl_reload`.
    func publishCRL() throws(ResponderFailure) {
        let factoryCRL = configuration.factoryDirectory + "/crl.pem"
        try run(["crl", configuration.caDirectory, factoryCRL, "--days", "\(configuration.crlDays)"])
        do {
            try FileSystem.setPermissions(factoryCRL, [.ownerReadWrite, .groupRead, .otherRead])
            if configuration.crlFile != factoryCRL {
                let bytes = try FileSystem.readFile(factoryCRL)
                try FileSystem.writeFileAtomically(
                    configuration.crlFile,
                    bytes,
                    permissions: [.ownerReadWrite, .groupRead, .otherRead]
                )
            }
        } catch {
            throw ResponderFailure(.internalError, "cannot write the CRL to \(configuration.crlFile): \(error)")
        }
        guard let command = configuration.crlReload.first else { return }
        let result: Subprocess.Result
        do {
            result = try Subprocess.run(command, Array(configuration.crlReload.dropFirst()))
        } catch {
            throw ResponderFailure(.internalError, "ca.crl_reload: cannot start \(command): \(error)")
        }
        guard result.status == 0 else {
            throw ResponderFailure(
                .internalError,
                "ca.crl_reload (\(configuration.crlReload.joined(separator: " "))) exited \(result.status): \(result.output.prefix(300))"
            )
        }
    }

    private func run(_ arguments: [String]) throws(ResponderFailure) {
        let result: Subprocess.Result
        do {
            result = try Subprocess.run(configuration.pki, arguments)
        } catch {
            throw ResponderFailure(.internalError, "cannot run \(configuration.pki): \(error)")
        }
        guard result.status == 0 else {
            throw ResponderFailure(
                .internalError,
                "pinpost-pki \(arguments.first ?? "") exited \(result.status): \(result.output.prefix(500))"
            )
        }
    }

    static func removeTree(_ path: String) {
        for name in FileSystem.listDirectory(path) {
            let child = path + "/" + name
            if FileSystem.entryKind(child) == .directory {
                removeTree(child)
            } else {
                FileSystem.remove(child)
            }
        }
        try? FileSystem.removeDirectory(path)
    }
}

/// Why a request was refused: the `errorCode` and `statusCode` of the `rejected` answer, and the reason.
public struct ResponderFailure: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// Not JSON, no CSR, a bad signature, a weak key, another device's name.
        case invalidRequest = "InvalidCsr"
        /// The device id is not in the registry (or has no active certificate, or the claim is not allowed).
        case notRegistered = "NotRegistered"
        /// The device asked too often.
        case throttled = "Throttled"
        /// The request reuses the key of the device's current certificate.
        case keyReuse = "KeyReuse"
        case internalError = "InternalError"

        var statusCode: Int {
            switch self {
            case .invalidRequest, .keyReuse: 400
            case .notRegistered: 403
            case .throttled: 429
            case .internalError: 500
            }
        }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
