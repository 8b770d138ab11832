internal import NIOCore
internal import NIOPosix
internal import TLS

/// An open, verified TLS connection to the broker. Writes are fire-and-forget; failures surface as a close.
struct BrokerConnection: Sendable {
    let channel: any Channel
    let handshake: TLSHandshakeCompleted

    /// Writes and flushes: one TLS record stream and one socket write.
    func send(_ bytes: [UInt8]) {
        send(channel.allocator.buffer(bytes: bytes))
    }

    /// Writes and flushes a buffer built for the channel, without a copy.
    func send(_ buffer: ByteBuffer) {
        channel.writeAndFlush(buffer, promise: nil)
    }

    func close() {
        channel.close(promise: nil)
    }

    /// Returns once the connection is closed. A process that exits right after a fire-and-forget `close()` can
    /// end before the event loop wrote its last bytes: the broker then never sees the DISCONNECT, keeps a
    /// session the client meant to end (or publishes its Will) — seen with `pinpost check` under load.
    func closed() async {
        try? await channel.closeFuture.get()
    }
}

/// Opens TCP, then TLS through system OpenSSL, and returns only once the broker is verified.
struct BrokerConnector: Sendable {
    let host: String
    let port: Int
    let connectTimeout: Duration
    let tls: TLSContext
    let group: any EventLoopGroup

    init(
        host: String,
        port: Int,
        connectTimeout: Duration,
        tls: TLSContext,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.host = host
        self.port = port
        self.connectTimeout = connectTimeout
        self.tls = tls
        self.group = group
    }

    func connect(onEvent: @escaping @Sendable (TransportEvent) -> Void) async throws(ConnectFailure) -> BrokerConnection
    {
        let eventLoop = group.next()
        let handshake = eventLoop.makePromise(of: TLSHandshakeCompleted.self)
        let tls = self.tls
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(
                .nanoseconds(
                    Int64(connectTimeout.components.seconds) * 1_000_000_000 + connectTimeout.components.attoseconds
                        / 1_000_000_000
                )
            )
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        OpenSSLClientHandler(context: tls, handshakePromise: handshake)
                    )
                    try channel.pipeline.syncOperations.addHandler(InboundForwarder(deliver: onEvent))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            handshake.fail(error)
            throw classify(error)
        }
        // A broker that accepts TCP but never completes TLS must not hold the agent forever.
        let timeout = connectTimeout
        let watchdog = eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000)) {
            handshake.fail(
                TLSError(
                    kind: .handshake,
                    message:
                        "TLS handshake did not complete within \(timeout); fix: check that broker.port is a TLS listener"
                )
            )
            channel.close(promise: nil)
        }
        defer { watchdog.cancel() }
        do {
            let completed = try await handshake.futureResult.get()
            return BrokerConnection(channel: channel, handshake: completed)
        } catch let error as TLSError {
            channel.close(promise: nil)
            throw .tls(error)
        } catch {
            channel.close(promise: nil)
            throw .other("TLS: \(error)")
        }
    }

    private func classify(_ error: any Error) -> ConnectFailure {
        if let error = error as? NIOConnectionError {
            if let dnsError = error.dnsAAAAError ?? error.dnsAError, error.connectionErrors.isEmpty {
                return .nameResolution(host: host, detail: "\(dnsError)")
            }
            let details = error.connectionErrors.map { "\($0.target): \($0.error)" }.joined(separator: "; ")
            return .refused(host: host, port: port, detail: details.isEmpty ? "no address found" : details)
        }
        if let error = error as? ChannelError, case .connectTimeout = error {
            return .timeout(host: host, port: port, after: connectTimeout)
        }
        if let error = error as? SocketAddressError {
            return .nameResolution(host: host, detail: "\(error)")
        }
        return .other("TCP: \(error)")
    }
}
