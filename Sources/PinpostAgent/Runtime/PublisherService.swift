public import Logging
internal import MQTT
public import ServiceLifecycle
public import TLS

/// Keeps an MQTT session with the broker over verified TLS and publishes every reading it is given.
///
/// One loop owns the `ClientSession` state machine; network bytes, readings, timers and shutdown
/// all arrive as `ClientInput`s. Reconnects back off with full jitter; certificate and
/// authorization failures take a slow path since retrying fast cannot fix them.
public struct PublisherService: Service {
    let configuration: AgentConfiguration
    let tls: TLSContext
    let readings: AsyncStream<Reading>
    let clockGate: ClockGate
    let logger: Logger
    /// How long a graceful shutdown waits for outstanding acknowledgements.
    let drainTimeout: Duration

    public init(configuration: AgentConfiguration, tls: TLSContext, readings: AsyncStream<Reading>, clockGate: ClockGate, logger: Logger, drainTimeout: Duration = .seconds(5)) {
        self.configuration = configuration
        self.tls = tls
        self.readings = readings
        self.clockGate = clockGate
        self.logger = logger
        self.drainTimeout = drainTimeout
    }

    public func run() async throws {
        let (inputs, continuation) = AsyncStream<ClientInput>.makeStream()
        let readings = self.readings
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await reading in readings {
                        continuation.yield(.reading(reading))
                    }
                    continuation.yield(.readingsFinished)
                }
                group.addTask {
                    while (try? await Task.sleep(for: .milliseconds(250))) != nil {
                        continuation.yield(.tick)
                    }
                }
                do {
                    try await clockGate.waitUntilTrusted(logger: logger)
                } catch {
                    group.cancelAll()
                    return
                }
                var loop = PublisherLoop(service: self, continuation: continuation)
                await loop.run(inputs: inputs)
                group.cancelAll()
            }
        } onGracefulShutdown: {
            continuation.yield(.shutdown)
        }
    }
}

/// The publisher's state between inputs.
struct PublisherLoop {
    private enum Phase {
        case disconnected
        case connected(BrokerConnection)
    }

    let service: PublisherService
    let continuation: AsyncStream<ClientInput>.Continuation
    private var session: ClientSession
    private var phase = Phase.disconnected
    private var generation = 0
    private var backoff = Backoff(base: .seconds(1), cap: .seconds(300))
    private var slowBackoff = Backoff(base: .seconds(60), cap: .seconds(900))
    private var lastFailure: String?
    private var shuttingDown = false
    private var readingsFinished = false
    private var drainDeadline: Duration?
    private var offlineStatusQueued = false
    private let clock = ContinuousClock()
    private let origin: ContinuousClock.Instant
    private let topics: Topics
    private var logger: Logger { service.logger }

    static let statusTag = UInt64.max
    static let offlineStatusTag = UInt64.max - 1

    init(service: PublisherService, continuation: AsyncStream<ClientInput>.Continuation) {
        self.service = service
        self.continuation = continuation
        self.origin = clock.now
        let configuration = service.configuration
        self.topics = Topics(deviceID: configuration.device.id)
        self.session = ClientSession(configuration: SessionSettings.make(configuration))
    }

    private var now: Duration { clock.now - origin }

    mutating func run(inputs: AsyncStream<ClientInput>) async {
        await connect()
        for await input in inputs {
            switch input {
            case .transport(let eventGeneration, let event):
                guard eventGeneration == generation else { continue }
                handle(event)
            case .reading(let reading):
                publish(reading)
            case .readingsFinished:
                readingsFinished = true
            case .tick:
                if case .connected = phase {
                    perform(session.tick(now: now))
                }
            case .retry(let retryGeneration):
                if retryGeneration == generation, case .disconnected = phase, !shuttingDown {
                    await connect()
                }
            case .shutdown:
                shuttingDown = true
                drainDeadline = now + service.drainTimeout
            }
            if shuttingDown, finishIfDone() { return }
        }
    }

    // MARK: Connection

    private mutating func connect() async {
        generation += 1
        let current = generation
        let continuation = self.continuation
        let configuration = service.configuration
        let connector = BrokerConnector(
            host: configuration.broker.host,
            port: configuration.broker.port,
            connectTimeout: configuration.broker.connectTimeout,
            tls: service.tls
        )
        do {
            let connection = try await connector.connect { event in
                continuation.yield(.transport(generation: current, event))
            }
            phase = .connected(connection)
            logger.info("TLS established", metadata: [
                "broker": "\(configuration.broker.host):\(configuration.broker.port)",
                "protocol": "\(connection.handshake.protocolVersion)",
                "cipher": "\(connection.handshake.cipher)",
            ])
            perform(session.connectionEstablished(now: now))
        } catch {
            scheduleRetry(after: error.description, slow: error.isTrustFailure)
        }
    }

    private mutating func scheduleRetry(after failure: String, slow: Bool) {
        phase = .disconnected
        if shuttingDown { return }
        let delay = slow ? slowBackoff.nextDelay(uniform: Double.random(in: 0..<1)) : backoff.nextDelay(uniform: Double.random(in: 0..<1))
        // Log a repeated failure once per change, not once per attempt.
        if failure != lastFailure {
            logger.error("connection failed: \(failure)")
            lastFailure = failure
        }
        logger.info("reconnecting", metadata: ["in": "\(delay)", "queued": "\(session.queuedCount + session.inFlightCount)"])
        let retryGeneration = generation
        let continuation = self.continuation
        Task {
            try? await Task.sleep(for: delay)
            continuation.yield(.retry(generation: retryGeneration))
        }
    }

    private mutating func handle(_ event: TransportEvent) {
        switch event {
        case .bytes(let bytes):
            perform(session.received(bytes, now: now))
        case .closed(let error):
            guard case .connected = phase else { return }
            perform(session.connectionLost())
            let reason = error.map { "connection lost: \($0)" } ?? "connection closed by the broker"
            let trust = (error as? TLSError).map { $0.kind == .verification } ?? false
            scheduleRetry(after: reason, slow: trust)
        }
    }

    // MARK: Publishing

    private mutating func publish(_ reading: Reading) {
        let payload = ReadingPayload.encode(reading)
        do {
            let actions = try session.publish(
                topic: topics.sensor(reading.sensor), payload: payload, qos: reading.qos, retain: false, tag: reading.seq, now: now)
            perform(actions)
        } catch {
            logger.error("reading not published", metadata: ["sensor": "\(reading.sensor)", "seq": "\(reading.seq)", "reason": "\(error)"])
        }
    }

    private mutating func publishStatus(_ state: String, tag: UInt64) {
        do {
            perform(try session.publish(
                topic: topics.status, payload: Array("{\"state\":\"\(state)\"}".utf8), qos: .atLeastOnce, retain: true, tag: tag, now: now))
        } catch {
            logger.error("status not published", metadata: ["reason": "\(error)"])
        }
    }

    // MARK: Session actions

    private mutating func perform(_ actions: [SessionAction]) {
        for action in actions {
            switch action {
            case .send(let bytes):
                if case .connected(let connection) = phase {
                    connection.send(bytes)
                }
            case .close(let reason):
                if case .connected(let connection) = phase {
                    connection.close()
                    generation += 1  // the transport's own close report is now stale
                    perform(session.connectionLost())
                    if reason != .clientDisconnect {
                        scheduleRetry(after: "closed by Pinpost: \(reason)", slow: reason == .connectionRefused)
                    } else {
                        phase = .disconnected
                    }
                }
            case .event(let event):
                handle(event)
            }
        }
    }

    private mutating func handle(_ event: SessionEvent) {
        switch event {
        case .connected(let sessionPresent, _):
            logger.info("MQTT connected", metadata: ["client_id": "\(service.configuration.device.id)", "session_present": "\(sessionPresent)"])
            backoff.reset()
            slowBackoff.reset()
            lastFailure = nil
            publishStatus("online", tag: Self.statusTag)
        case .connectionRefused(let reason):
            logger.error("broker refused CONNECT: \(reason)")
        case .delivered(let tag):
            if tag < Self.offlineStatusTag {
                logger.trace("delivered", metadata: ["seq": "\(tag)"])
            }
        case .deliveryFailed(let tag, let reason):
            logger.error("broker refused a message; it will not be retried", metadata: ["seq": "\(tag)", "reason": "\(reason)"])
        case .messageReceived(let message):
            logger.debug("message received", metadata: ["topic": "\(message.topic)"])
        case .subscribed, .unsubscribed:
            break
        case .disconnectedByServer(let reason):
            if reason == .sessionTakenOver {
                logger.warning("broker dropped this connection because another client connected with the same client id '\(service.configuration.device.id)'; backing off")
            } else {
                logger.warning("broker sent DISCONNECT: \(reason)")
            }
        case .protocolError(let detail):
            logger.error("MQTT protocol error from broker: \(detail)")
        }
    }

    // MARK: Shutdown

    /// Once readings have stopped: flush, say offline, DISCONNECT. Returns true when the loop may end.
    private mutating func finishIfDone() -> Bool {
        guard readingsFinished || (drainDeadline.map { now >= $0 } ?? false) else { return false }
        guard case .connected = phase else {
            let left = session.queuedCount + session.inFlightCount
            if left > 0 {
                logger.warning("shutting down while disconnected; readings not delivered", metadata: ["count": "\(left)"])
            }
            return true
        }
        let pending = session.queuedCount + session.inFlightCount
        let timedOut = drainDeadline.map { now >= $0 } ?? false
        if !offlineStatusQueued {
            offlineStatusQueued = true
            publishStatus("offline", tag: Self.offlineStatusTag)
            return false
        }
        guard pending == 0 || timedOut else { return false }
        if pending > 0 {
            logger.warning("shutdown timed out waiting for acknowledgements", metadata: ["unacknowledged": "\(pending)"])
        }
        perform(session.disconnect(now: now))
        if case .connected(let connection) = phase {
            connection.close()
        }
        logger.info("disconnected")
        return true
    }
}
