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
        let (outcome, connection) = await connectAndDisconnect()
        if let connection {
            // Waited for, so the DISCONNECT is out before `pinpost check` exits and the broker ends the session.
            connection.close()
            await connection.closed()
        }
        return outcome
    }

    private func connectAndDisconnect() async -> (Outcome, BrokerConnection?) {
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
            return (.tlsFailed(error), nil)
        }

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
            case .closed(let error):
                let detail = error.map { "connection closed before CONNACK: \($0)" }
                    ?? (clock.now - start >= timeout ? "no CONNACK within \(timeout)" : "the broker closed the connection before CONNACK")
                return (.connected(connection.handshake, .failed(detail + "; fix: check the broker log (is this device's certificate accepted, or revoked?)")), connection)
            case .bytes(let bytes):
                for action in session.received(bytes, now: clock.now - start) {
                    switch action {
                    case .event(.connected(let sessionPresent, _)):
                        // No session before the probe: leave none behind (MQTT 5, Session Expiry 0 on DISCONNECT),
                        // or the agent's first start would find a session it holds no state for [MQTT-3.2.2-4].
                        for action in session.disconnect(now: clock.now - start, sessionExpiry: sessionPresent ? nil : 0) {
                            if case .send(let bytes) = action { connection.send(bytes) }
                        }
                        return (.connected(connection.handshake, .accepted(sessionPresent: sessionPresent)), connection)
                    case .event(.connectionRefused(let reason, let notice)):
                        return (.connected(connection.handshake, .refused(reason, notice)), connection)
                    case .event(.protocolError(let detail)):
                        return (.connected(connection.handshake, .failed("protocol error: \(detail)")), connection)
                    default:
                        continue
                    }
                }
            }
        }
        return (.connected(connection.handshake, .failed("connection ended")), connection)
    }
}
