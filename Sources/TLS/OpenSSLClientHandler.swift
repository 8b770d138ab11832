public import NIOCore

/// Fired (as a user inbound event) once the handshake has completed and the broker is verified.
public struct TLSHandshakeCompleted: Sendable, Equatable {
    public var protocolVersion: String
    public var cipher: String
    public var peerCertificate: CertificateSummary?
    /// Whether the broker stapled an OCSP response that verified and said "good".
    public var ocspStapleVerified: Bool = false
}

/// A thin NIO shell around `TLSConnection`: ciphertext from the socket goes into OpenSSL's
/// memory BIO, plaintext comes out as `ByteBuffer`s; writes before the handshake are held back.
///
/// Writes are gathered until `flush` and encrypted together: a burst of MQTT packets leaves as few TLS
/// records as their size allows (up to 16 KiB of plaintext each) and one write to the socket, instead of
/// a record and a system call per packet.
///
/// A verification or handshake failure is fired as `TLSError` through `errorCaught` and the
/// channel is closed, so no application byte ever reaches an unverified peer.
public final class OpenSSLClientHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private let connection: TLSConnection
    /// Writes made before the handshake completed; they go out once the broker is verified.
    private var pendingWrites: [(ByteBuffer, EventLoopPromise<Void>?)] = []
    /// Plaintext written since the last flush, and the promises of those writes.
    private var unflushed: ByteBuffer?
    private var unflushedPromises: [EventLoopPromise<Void>] = []
    private var failed = false
    private var handshakePromise: EventLoopPromise<TLSHandshakeCompleted>?

    /// - Parameter handshakePromise: succeeded when the broker is verified, failed with `TLSError` otherwise;
    ///   lets a connector wait for a verified session before sending any MQTT byte.
    public init(context: TLSContext, handshakePromise: EventLoopPromise<TLSHandshakeCompleted>? = nil) throws(TLSError)
    {
        self.connection = try context.makeConnection()
        self.handshakePromise = handshakePromise
    }

    public func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        advanceHandshake(context: context)
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive {
            advanceHandshake(context: context)
        }
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        let buffer = unwrapInboundIn(data)
        buffer.withUnsafeReadableBytes { connection.receive($0) }
        if !connection.handshakeComplete {
            advanceHandshake(context: context)
            guard connection.handshakeComplete else { return }
        }
        readApplicationData(context: context)
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var buffer = unwrapOutboundIn(data)
        guard connection.handshakeComplete, !failed else {
            guard !failed else {
                promise?.fail(TLSError(kind: .closed, message: "write after the TLS session failed"))
                return
            }
            pendingWrites.append((buffer, promise))
            return
        }
        if unflushed == nil {
            unflushed = buffer
        } else {
            unflushed!.writeBuffer(&buffer)
        }
        if let promise { unflushedPromises.append(promise) }
    }

    public func flush(context: ChannelHandlerContext) {
        encryptUnflushed(context: context)
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode == .all, connection.handshakeComplete, !failed {
            // What was written goes before the close_notify, as the writer expects.
            encryptUnflushed(context: context)
            connection.shutdown()
            flushCiphertext(context: context, promise: nil)
        }
        context.close(mode: mode, promise: promise)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        let error = TLSError(
            kind: .closed,
            message:
                "the broker closed the connection during the TLS handshake (it may have refused this device's certificate)"
        )
        handshakePromise?.fail(error)
        handshakePromise = nil
        failPendingWrites(error)
        context.fireChannelInactive()
    }

    private func advanceHandshake(context: ChannelHandlerContext) {
        switch connection.handshake() {
        case .needMoreData:
            flushCiphertext(context: context, promise: nil)
        case .complete:
            flushCiphertext(context: context, promise: nil)
            let completed = TLSHandshakeCompleted(
                protocolVersion: connection.negotiatedProtocol,
                cipher: connection.negotiatedCipher,
                peerCertificate: connection.peerCertificate,
                ocspStapleVerified: connection.ocspStapleVerified
            )
            handshakePromise?.succeed(completed)
            handshakePromise = nil
            context.fireUserInboundEventTriggered(completed)
            let writes = pendingWrites
            pendingWrites.removeAll()
            for (buffer, promise) in writes {
                write(context: context, data: wrapOutboundOut(buffer), promise: promise)
            }
            encryptUnflushed(context: context)
        case .failed(let error):
            fail(error, context: context)
        }
    }

    private func readApplicationData(context: ChannelHandlerContext) {
        var plaintext: [UInt8] = []
        do {
            let open = try connection.readPlaintext(into: &plaintext)
            if !plaintext.isEmpty {
                context.fireChannelRead(wrapInboundOut(context.channel.allocator.buffer(bytes: plaintext)))
            }
            flushCiphertext(context: context, promise: nil)  // e.g. key updates
            if !open {
                context.close(promise: nil)
            }
        } catch {
            fail(error, context: context)
        }
    }

    /// Encrypts everything written since the last flush in one go and hands the ciphertext to the socket.
    private func encryptUnflushed(context: ChannelHandlerContext) {
        guard let buffer = unflushed else { return }
        unflushed = nil
        let promises = unflushedPromises
        unflushedPromises.removeAll(keepingCapacity: true)
        do {
            try buffer.withUnsafeReadableBytes { bytes throws(TLSError) in try connection.send(bytes) }
            let promise: EventLoopPromise<Void>?
            if promises.isEmpty {
                promise = nil
            } else {
                let combined = context.eventLoop.makePromise(of: Void.self)
                for waiting in promises { combined.futureResult.cascade(to: waiting) }
                promise = combined
            }
            flushCiphertext(context: context, promise: promise)
        } catch {
            for waiting in promises { waiting.fail(error) }
            fail(error, context: context)
        }
    }

    private func flushCiphertext(context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        let pending = connection.pendingCiphertext
        guard pending > 0 else {
            promise?.succeed()
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: pending)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: pending) { connection.takeCiphertext(into: $0) }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: promise)
    }

    private func fail(_ error: TLSError, context: ChannelHandlerContext) {
        guard !failed else { return }
        failed = true
        flushCiphertext(context: context, promise: nil)  // let the alert reach the broker
        failPendingWrites(error)
        handshakePromise?.fail(error)
        handshakePromise = nil
        context.fireErrorCaught(error)
        context.close(promise: nil)
    }

    private func failPendingWrites(_ error: TLSError) {
        let writes = pendingWrites
        pendingWrites.removeAll()
        for (_, promise) in writes {
            promise?.fail(error)
        }
        unflushed = nil
        let promises = unflushedPromises
        unflushedPromises.removeAll()
        for promise in promises {
            promise.fail(error)
        }
    }
}

@available(*, unavailable)
extension OpenSSLClientHandler: Sendable {}
