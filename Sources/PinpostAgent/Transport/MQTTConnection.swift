public import MQTT
public import TLS

/// One MQTT connection for a request and its answer, outside the publisher: a claim board asking for its identity
/// before it has one, and the CA responder (`pinpost-ca`). TCP and verified TLS from `BrokerConnector`, the protocol
/// from `ClientSession`; no spool, no reconnects (the caller makes a new connection).
public actor MQTTConnection {
    private var session: ClientSession
    private let link: BrokerConnection
    private let origin = ContinuousClock.now
    private var connAck: CheckedContinuation<Result<Bool, MQTTConnectionError>, Never>?
    private var deliveries: [UInt64: CheckedContinuation<Result<Void, MQTTConnectionError>, Never>] = [:]
    private var subAcks: [UInt16: CheckedContinuation<Result<[ReasonCode], MQTTConnectionError>, Never>] = [:]
    private var nextTag: UInt64 = 1
    private var closeReason: String?
    private let messageInput: AsyncStream<PublishPacket>.Continuation
    /// Messages from the broker, in order; ends when the connection does.
    public nonisolated let messages: AsyncStream<PublishPacket>

    private var now: Duration { ContinuousClock.now - origin }

    /// Connects and waits for CONNACK.
    /// - Parameters:
    ///   - settings: client id, protocol version, keep-alive, clean start, Will (usually none).
    ///   - resumesBrokerSession: with Clean Start 0, accept the broker's stored session (Session Present 1) although
    ///     this process holds no state of it: a long-running client (the CA) keeps its subscriptions and the
    ///     messages queued while it was away.
    public static func connect(
        host: String,
        port: Int,
        connectTimeout: Duration,
        tls: TLSContext,
        settings: ClientSession.Configuration,
        resumesBrokerSession: Bool = false
    ) async throws(MQTTConnectionError) -> MQTTConnection {
        let (events, eventInput) = AsyncStream<TransportEvent>.makeStream()
        let connector = BrokerConnector(host: host, port: port, connectTimeout: connectTimeout, tls: tls)
        let link: BrokerConnection
        do {
            link = try await connector.connect { event in
                eventInput.yield(event)
                if case .closed = event { eventInput.finish() }
            }
        } catch {
            throw MQTTConnectionError(.connect, error.description)
        }
        let session =
            resumesBrokerSession
            ? ClientSession(configuration: settings, restoring: SessionSnapshot(clientID: settings.clientID))
            : ClientSession(configuration: settings)
        let connection = MQTTConnection(session: session, link: link)
        Task {
            for await event in events { await connection.handle(event) }
            await connection.transportEnded()
        }
        Task {
            while await connection.isOpen {
                try? await Task.sleep(for: .milliseconds(500))
                await connection.tick()
            }
        }
        try await connection.start()
        return connection
    }

    private init(session: ClientSession, link: BrokerConnection) {
        self.session = session
        self.link = link
        (messages, messageInput) = AsyncStream.makeStream()
    }

    /// False once the connection has ended (and why, in `closeReason`).
    public var isOpen: Bool { closeReason == nil }

    private func start() async throws(MQTTConnectionError) {
        let result = await withCheckedContinuation { continuation in
            connAck = continuation
            apply(session.connectionEstablished(now: now))
        }
        if case .failure(let error) = result {
            close(error.message)
            throw error
        }
    }

    /// Subscribes and returns the broker's answer for each filter (0x80 and above: refused).
    public func subscribe(_ subscriptions: [Subscription]) async throws(MQTTConnectionError) -> [ReasonCode] {
        guard closeReason == nil else { throw MQTTConnectionError(.closed, closeReason ?? "") }
        let request: (packetID: UInt16, actions: [SessionAction])
        do {
            request = try session.subscribe(subscriptions, now: now)
        } catch {
            throw MQTTConnectionError(.protocolError, "\(error)")
        }
        let result = await withCheckedContinuation { continuation in
            subAcks[request.packetID] = continuation
            apply(request.actions)
        }
        return try result.get()
    }

    /// Publishes and returns once the broker acknowledged it (QoS 1/2) or it was written (QoS 0).
    public func publish(
        topic: String,
        payload: [UInt8],
        qos: QoS = .atLeastOnce,
        retain: Bool = false
    ) async throws(MQTTConnectionError) {
        guard closeReason == nil else { throw MQTTConnectionError(.closed, closeReason ?? "") }
        let tag = nextTag
        nextTag += 1
        let actions: [SessionAction]
        do {
            actions = try session.publish(topic: topic, payload: payload, qos: qos, retain: retain, tag: tag, now: now)
        } catch {
            throw MQTTConnectionError(.refused, "\(error)")
        }
        let result = await withCheckedContinuation { continuation in
            deliveries[tag] = continuation
            apply(actions)
        }
        try result.get()
    }

    /// DISCONNECT (the session is kept as negotiated) and close; waits until the bytes are out.
    public func disconnect() async {
        guard closeReason == nil else { return }
        apply(session.disconnect(now: now))
        close("disconnected")
        await link.closed()
    }

    // MARK: Inputs

    private func handle(_ event: TransportEvent) {
        switch event {
        case .bytes(let bytes): apply(session.received(bytes, now: now))
        case .writable: break
        case .closed(let error): close(error.map { "connection lost: \($0)" } ?? "the broker closed the connection")
        }
    }

    private func tick() {
        guard closeReason == nil else { return }
        apply(session.tick(now: now))
    }

    private func transportEnded() {
        close("connection ended")
    }

    private func apply(_ actions: [SessionAction]) {
        for action in actions {
            switch action {
            case .send(let bytes):
                link.send(bytes)
            case .close(let reason):
                close(closeText(reason))
            case .event(let event):
                handle(event)
            }
        }
    }

    private func handle(_ event: SessionEvent) {
        switch event {
        case .connected(let sessionPresent, _):
            connAck?.resume(returning: .success(sessionPresent))
            connAck = nil
        case .connectionRefused(let reason, let notice):
            connAck?.resume(
                returning: .failure(
                    MQTTConnectionError(.refused, "CONNACK refused: \(reason)\(notice.isEmpty ? "" : " (\(notice))")")
                )
            )
            connAck = nil
        case .delivered(let tag):
            deliveries.removeValue(forKey: tag)?.resume(returning: .success(()))
        case .deliveryFailed(let tag, let reason):
            deliveries.removeValue(forKey: tag)?.resume(
                returning: .failure(MQTTConnectionError(.refused, "the broker refused the message: \(reason)"))
            )
        case .messageReceived(let message):
            messageInput.yield(message)
        case .subscribed(let packetID, let results):
            subAcks.removeValue(forKey: packetID)?.resume(returning: .success(results))
        case .resubscribed, .unsubscribed:
            break
        case .disconnectedByServer(let reason, let notice):
            close("DISCONNECT from the broker: \(reason)\(notice.isEmpty ? "" : " (\(notice))")")
        case .protocolError(let detail):
            close("MQTT protocol error: \(detail)")
        }
    }

    private func closeText(_ reason: CloseReason) -> String {
        switch reason {
        case .clientDisconnect: "disconnected"
        case .keepAliveTimeout: "keep-alive timeout"
        case .connAckTimeout: "no CONNACK in time"
        case .protocolError: "MQTT protocol error"
        case .connectionRefused: "CONNACK refused"
        case .serverDisconnect: "DISCONNECT from the broker"
        }
    }

    /// Ends the connection once; every waiter learns why.
    private func close(_ reason: String) {
        guard closeReason == nil else { return }
        closeReason = reason
        link.close()
        _ = session.connectionLost()
        let error = MQTTConnectionError(.closed, reason)
        connAck?.resume(returning: .failure(error))
        connAck = nil
        for (_, waiter) in deliveries { waiter.resume(returning: .failure(error)) }
        deliveries.removeAll()
        for (_, waiter) in subAcks { waiter.resume(returning: .failure(error)) }
        subAcks.removeAll()
        messageInput.finish()
    }
}

/// Why an `MQTTConnection` call failed.
public struct MQTTConnectionError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// TCP or TLS could not be established.
        case connect
        /// The broker refused CONNECT, or a message.
        case refused
        /// The connection ended.
        case closed
        case protocolError = "protocol-error"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
