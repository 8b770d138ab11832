internal import MQTT
internal import TLS

/// One short connection for `pinpost check`: TLS with full verification, then CONNECT and DISCONNECT.
///
/// It uses the device's own client id (brokers may bind permissions to it) with Clean Start 0, so a
/// persistent session is kept; a running agent with the same id is briefly taken over and reconnects.
struct BrokerProbe {
    enum ConnectOutcome {
        case accepted(sessionPresent: Bool)
        case refused(ReasonCode, ServerNotice)
        case failed(String)
    }

    enum Outcome {
        case tlsFailed(ConnectFailure)
        case connected(TLSHandshakeCompleted, ConnectOutcome)
    }

    let configuration: AgentConfiguration
    let tls: TLSContext
    let timeout: Duration

    func handshakeAndConnect() async -> Outcome {
        let (events, continuation) = AsyncStream<TransportEvent>.makeStream()
        let connector = BrokerConnector(
            host: configuration.broker.host,
            port: configuration.broker.port,
            connectTimeout: min(configuration.broker.connectTimeout, timeout),
            tls: tls
        )
        let connection: BrokerConnection
        do {
            connection = try await connector.connect { continuation.yield($0) }
        } catch {
            return .tlsFailed(error)
        }
        let outcome = await connectAndDisconnect(over: connection, events: events, continuation: continuation)
        // Waited for, so the DISCONNECT is out before `pinpost check` exits and the broker ends the session.
        connection.close()
        await connection.closed()
        return .connected(connection.handshake, outcome)
    }

    private func connectAndDisconnect(
        over connection: BrokerConnection,
        events: AsyncStream<TransportEvent>,
        continuation: AsyncStream<TransportEvent>.Continuation
    ) async -> ConnectOutcome {
        var settings = SessionSettings.make(configuration)
        settings.will = nil  // a probe must not announce the device offline
        // Restoring an (empty) snapshot makes the probe claim the device's broker session, so MQTT 5 sends
        // Clean Start 0 and accepts Session Present=1 instead of wiping a running agent's session.
        var session = ClientSession(configuration: settings, restoring: SessionSnapshot(clientID: settings.clientID))
        let clock = ContinuousClock()
        let start = clock.now
        for action in session.connectionEstablished(now: .zero) {
            if case .send(let bytes) = action { connection.send(bytes) }
        }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            continuation.yield(.closed(nil))
        }
        defer { timer.cancel() }
        for await event in events {
            switch event {
            case .writable:
                continue
            case .closed(let error):
                let detail =
                    error.map { "connection closed before CONNACK: \($0)" }
                    ?? (clock.now - start >= timeout
                        ? "no CONNACK within \(timeout)" : "the broker closed the connection before CONNACK")
                return .failed(
                    detail + "; fix: check the broker log (is this device's certificate accepted, or revoked?)"
                )
            case .bytes(let bytes):
                for action in session.received(bytes, now: clock.now - start) {
                    switch action {
                    case .event(.connected(let sessionPresent, _)):
                        // No session before the probe: leave none behind (MQTT 5, Session Expiry 0 on DISCONNECT),
                        // or the agent's first start would find a session it holds no state for [MQTT-3.2.2-4].
                        for action in session.disconnect(
                            now: clock.now - start,
                            sessionExpiry: sessionPresent ? nil : 0
                        ) {
                            if case .send(let bytes) = action { connection.send(bytes) }
                        }
                        return .accepted(sessionPresent: sessionPresent)
                    case .event(.connectionRefused(let reason, let notice)):
                        return .refused(reason, notice)
                    case .event(.protocolError(let detail)):
                        return .failed("protocol error: \(detail)")
                    default:
                        continue
                    }
                }
            }
        }
        return .failed("connection ended")
    }
}
