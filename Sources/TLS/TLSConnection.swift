internal import CPinpostOpenSSL
internal import CPinpostOpenSSLShims

/// One client TLS session driven through memory BIOs: ciphertext in and out as bytes,
/// so the transport (SwiftNIO) stays in charge of the socket.
///
/// Not thread-safe: one event loop owns it.
final class TLSConnection {
    enum Progress: Equatable {
        case complete
        case needMoreData
        case failed(TLSError)
    }

    private let handle: SSLHandle
    private let networkIn: OpaquePointer  // bytes from the broker, read by OpenSSL; owned by the SSL
    private let networkOut: OpaquePointer  // bytes OpenSSL wants sent to the broker; owned by the SSL
    private let verification = VerificationRecord()
    /// One TLS record's worth of plaintext per SSL_read, kept for the connection's life rather than zero-filled
    /// anew on every socket read.
    private var readChunk = [UInt8](repeating: 0, count: 16 * 1024)
    let context: TLSContext
    private(set) var handshakeComplete = false

    private var ssl: OpaquePointer { handle.pointer }

    /// - Parameter setHost: sets the name to verify; a parameter only so a test can make it fail.
    init(
        context: TLSContext,
        setHost: (OpaquePointer, String) -> Int32 = { ssl, name in SSL_set1_host(ssl, name) }
    ) throws(TLSError) {
        self.context = context
        OpenSSLErrors.clear()
        // From here on the handle frees the SSL (and the BIOs it owns) exactly once, whichever way init ends;
        // no path below frees it by hand.
        guard let handle = SSLHandle(context: context.context) else {
            throw TLSError(
                kind: .handshake,
                message: "OpenSSL could not create a TLS session: \(OpenSSLErrors.drain())"
            )
        }
        self.handle = handle
        guard let networkIn = BIO_new(BIO_s_mem()) else {
            throw TLSError(kind: .handshake, message: "OpenSSL could not create memory BIOs: \(OpenSSLErrors.drain())")
        }
        guard let networkOut = BIO_new(BIO_s_mem()) else {
            BIO_free(networkIn)
            throw TLSError(kind: .handshake, message: "OpenSSL could not create memory BIOs: \(OpenSSLErrors.drain())")
        }
        self.networkIn = networkIn
        self.networkOut = networkOut
        SSL_set_bio(handle.pointer, networkIn, networkOut)  // the SSL now owns both BIOs
        SSL_set_connect_state(handle.pointer)

        let name = context.configuration.serverName
        // SSL_set1_host checks DNS names and, since OpenSSL 3.0, IP literals against IP SANs.
        guard setHost(handle.pointer, name) == 1 else {
            OpenSSLErrors.clear()
            throw TLSError(
                kind: .policy,
                message:
                    "tls.server_name '\(name)' is not a valid host name or IP address; fix: set broker.host or tls.server_name to the name in the broker certificate"
            )
        }
        // Names only from subjectAltName (no CN fallback), wildcards only as a whole left-most label.
        SSL_set_hostflags(handle.pointer, CPinpostOpenSSLShims_host_flags())
        if !Self.isIPLiteral(name) {
            _ = CPinpostOpenSSLShims_SSL_set_tlsext_host_name(handle.pointer, name)
        }
        if context.configuration.ocsp != .off {
            _ = CPinpostOpenSSLShims_SSL_request_ocsp(handle.pointer)
        }
        SSL_set_ex_data(handle.pointer, 0, Unmanaged.passUnretained(verification).toOpaque())
        SSL_set_verify(handle.pointer, SSL_VERIFY_PEER, pinpostVerifyCallback)
    }

    /// Ciphertext received from the network.
    func receive(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        _ = BIO_write(networkIn, base, Int32(bytes.count))
    }

    /// Advances the handshake as far as the received bytes allow.
    func handshake() -> Progress {
        if handshakeComplete { return .complete }
        OpenSSLErrors.clear()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            // Belt and braces: the handshake result and the verify result must both say OK.
            let verifyResult = Int(SSL_get_verify_result(ssl))
            guard verifyResult == Int(X509_V_OK), SSL_get0_peer_certificate(ssl) != nil else {
                return .failed(
                    verificationError(code: verifyResult == Int(X509_V_OK) ? Int(X509_V_ERR_UNSPECIFIED) : verifyResult)
                )
            }
            handshakeComplete = true
            return .complete
        }
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .needMoreData
        default:
            let verifyResult = Int(SSL_get_verify_result(ssl))
            if verifyResult != Int(X509_V_OK) || verification.code != nil {
                OpenSSLErrors.clear()
                return .failed(verificationError(code: verification.code ?? verifyResult))
            }
            let ocspOutcome = CPinpostOpenSSLShims_SSL_ocsp_outcome(ssl)
            if let failure = OCSPFailure.error(
                outcome: ocspOutcome,
                mode: context.configuration.ocsp,
                certificate: peerCertificate
            ) {
                OpenSSLErrors.clear()
                return .failed(failure)
            }
            let detail = OpenSSLErrors.drainStack()
            if let refusal = BrokerRefusal.error(detail, deviceCertificate: context.deviceCertificate) {
                return .failed(refusal)
            }
            return .failed(
                TLSError(
                    kind: .handshake,
                    message:
                        "TLS handshake with '\(context.configuration.serverName)' failed: \(detail); fix: check that the broker speaks TLS 1.2+ on this port and accepts this device's certificate"
                )
            )
        }
    }

    private func verificationError(code: Int) -> TLSError {
        VerificationFailure.error(
            code: code,
            certificate: verification.certificate,
            depth: verification.depth,
            serverName: context.configuration.serverName
        )
    }

    /// Encrypts application bytes; the result is picked up with `takeCiphertext(into:)`.
    func send(_ bytes: UnsafeRawBufferPointer) throws(TLSError) {
        var offset = 0
        while offset < bytes.count {
            OpenSSLErrors.clear()
            let written = SSL_write(ssl, bytes.baseAddress! + offset, Int32(bytes.count - offset))
            if written <= 0 {
                throw TLSError(kind: .handshake, message: "TLS write failed: \(OpenSSLErrors.drain())")
            }
            offset += Int(written)
        }
    }

    /// Decrypts whatever application data is available.
    /// - Returns: `nil` when the peer sent close_notify.
    func readPlaintext(into output: inout [UInt8]) throws(TLSError) -> Bool {
        while true {
            OpenSSLErrors.clear()
            let count = readChunk.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
            if count > 0 {
                output.append(contentsOf: readChunk[0..<Int(count)])
                continue
            }
            switch SSL_get_error(ssl, count) {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                return true
            case SSL_ERROR_ZERO_RETURN:
                return false
            default:
                // TLS 1.3: the broker checks this device's certificate after the client finished its handshake,
                // so its refusal arrives here, as an alert, instead of failing the handshake.
                let detail = OpenSSLErrors.drainStack()
                if let refusal = BrokerRefusal.error(detail, deviceCertificate: context.deviceCertificate) {
                    throw refusal
                }
                throw TLSError(kind: .handshake, message: "TLS read failed: \(detail)")
            }
        }
    }

    /// Ciphertext OpenSSL produced (handshake records, encrypted data, alerts).
    var pendingCiphertext: Int {
        Int(CPinpostOpenSSLShims_BIO_ctrl_pending(networkOut))
    }

    /// Moves waiting ciphertext straight into the caller's buffer (the socket's): no zero-filled array and no
    /// copies in between, which at 1 KiB readings were a tenth of the agent's CPU in page faults and memmove.
    /// - Returns: how many bytes were written to `output`.
    func takeCiphertext(into output: UnsafeMutableRawBufferPointer) -> Int {
        guard let base = output.baseAddress, !output.isEmpty else { return 0 }
        let read = BIO_read(networkOut, base, Int32(clamping: output.count))
        return read > 0 ? Int(read) : 0
    }

    /// Queues a close_notify alert.
    func shutdown() {
        OpenSSLErrors.clear()
        _ = SSL_shutdown(ssl)
        OpenSSLErrors.clear()
    }

    var negotiatedProtocol: String {
        SSL_get_version(ssl).map { String(cString: $0) } ?? "?"
    }

    var negotiatedCipher: String {
        SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)).map { String(cString: $0) } ?? "?"
    }

    var peerCertificate: CertificateSummary? {
        guard let certificate = SSL_get0_peer_certificate(ssl) else { return nil }
        return X509Inspection.summary(of: certificate)
    }

    var ocspStapleVerified: Bool {
        CPinpostOpenSSLShims_SSL_ocsp_outcome(ssl) == Int32(CPINPOST_OCSP_GOOD)
    }

    static func isIPLiteral(_ name: String) -> Bool {
        if name.contains(":") { return true }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { part in !part.isEmpty && part.allSatisfy(\.isNumber) && (Int(part) ?? 256) < 256 }
    }
}

/// Owns one `SSL` and frees it exactly once, in `deinit`. `TLSConnection.init` used to free its `SSL` on a
/// failure after every stored property was set, so its `deinit` freed it again; with the pointer owned here,
/// no initializer frees it by hand.
final class SSLHandle {
    let pointer: OpaquePointer

    init?(context: OpaquePointer) {
        guard let pointer = SSL_new(context) else { return nil }
        self.pointer = pointer
    }

    deinit {
        SSL_free(pointer)
    }
}

/// The first verification failure OpenSSL reported, with the certificate it concerned.
final class VerificationRecord {
    var code: Int?
    var depth: Int?
    var certificate: CertificateSummary?
}

/// Records the first failure and otherwise keeps OpenSSL's verdict (it never overrides a failure).
private func pinpostVerifyCallback(preverifyOK: Int32, storeContext: OpaquePointer?) -> Int32 {
    guard preverifyOK == 0, let storeContext,
        let sslPointer = X509_STORE_CTX_get_ex_data(storeContext, SSL_get_ex_data_X509_STORE_CTX_idx()),
        let recordPointer = SSL_get_ex_data(OpaquePointer(sslPointer), 0)
    else { return preverifyOK }
    let record = Unmanaged<VerificationRecord>.fromOpaque(recordPointer).takeUnretainedValue()
    if record.code == nil {
        record.code = Int(X509_STORE_CTX_get_error(storeContext))
        record.depth = Int(X509_STORE_CTX_get_error_depth(storeContext))
        if let certificate = X509_STORE_CTX_get_current_cert(storeContext) {
            record.certificate = X509Inspection.summary(of: certificate)
        }
    }
    return preverifyOK
}
