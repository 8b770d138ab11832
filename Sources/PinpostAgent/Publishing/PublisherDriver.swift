internal import DurableSpool
internal import Logging
internal import MQTT
internal import NIOCore
internal import Publisher
internal import SystemExtras
internal import TLS
internal import Timestamps

/// Performs what the `PublisherMachine` decides: opens connections, writes and flushes bytes, moves
/// readings between the spool and the session, saves the session file, starts timers, notifies systemd
/// and logs. It holds no decisions of its own beyond dropping reports of connections it has abandoned.
struct PublisherDriver {
    /// Something to run beside the loop, in the service's task group.
    enum Launch: Sendable {
        /// Connect with this endpoint (read when the machine asked, so the attempt's identity is known).
        case connect(attempt: Int, endpoint: BrokerEndpoint)
        case retryTimer(after: Duration, token: Int)
        /// Feed `.resume` back after the inputs already queued.
        case resume
        /// Feed `.timer(token:)` at this instant.
        case timer(at: ContinuousClock.Instant, token: Int)
    }

    private let service: PublisherService
    private var machine: PublisherMachine<SystemRandomNumberGenerator>
    private var sessionFile: SessionFileWriter
    private let clock = ContinuousClock()
    private let origin: ContinuousClock.Instant
    /// The connection attempt whose reports count; earlier attempts' reports are stale.
    private var attempt = 0
    private var connection: BrokerConnection? {
        didSet { unflushed = nil }
    }
    /// The bytes of the burst being written, handed to the channel in one piece at the burst's flush: one
    /// channel write per burst, not one per packet, and the packets are copied once, into the buffer the TLS
    /// handler encrypts from. What the wire carries is the same: the handler encrypts what it gathered at each
    /// flush.
    private var unflushed: ByteBuffer?
    /// The size of the last burst: the next burst's buffer starts that large rather than growing by doubling
    /// (each regrowth a fresh allocation, page faults and a copy).
    private var lastBurstBytes = 4096
    /// The connection closed last: the process waits for its close before it exits, so the DISCONNECT leaves.
    private var closing: BrokerConnection?
    /// The transport's close report when it overtook the report of its own connection's success (both come
    /// from different threads): replayed right after that success.
    private var earlyClose: (attempt: Int, error: (any Error)?)?
    /// The identity of the current attempt, and whether its acceptance was reported (`PublisherConnectionEvent`).
    private var attemptTLS: TLSContext?
    private var acceptedReported = false
    /// A connection closed before the broker accepted it, reported at the end of the step with the reason logged.
    private var refusedPending: TLSContext?
    private var lastErrorLogged: String?
    private(set) var launches: [Launch] = []
    private(set) var isFinished = false
    /// The machine's next deadline that a timer is running for, and the token that timer reports with.
    private var timerDeadline: Duration?
    private var timerToken = 0

    private var logger: Logger { service.logger }
    private var store: any ReadingStore { service.spool }
    private var now: Duration { clock.now - origin }

    init(service: PublisherService) {
        self.service = service
        self.origin = clock.now
        let configuration = service.configuration
        let settings = SessionSettings.make(configuration)
        let path = SessionStateFile.path(inSpoolFolder: service.spool.folder)
        self.sessionFile = SessionFileWriter(path: path)
        var session = ClientSession(configuration: settings)
        var restoredInFlight: Int?
        if let restored = Self.restoreSession(store: service.spool, path: path, clientID: configuration.device.id) {
            session = ClientSession(configuration: settings, restoring: restored)
            restoredInFlight = restored.inFlight.count
        }
        machine = PublisherMachine(
            configuration: PublisherSettings.make(configuration),
            session: session,
            holdsSession: restoredInFlight != nil,
            random: SystemRandomNumberGenerator()
        )
        if let restoredInFlight {
            service.logger.info(
                "resuming the MQTT session of the last run",
                metadata: ["in_flight": "\(restoredInFlight)"]
            )
        }
    }

    /// The MQTT session as the last run left it, with message bodies from the spool.
    private static func restoreSession(store: any ReadingStore, path: String, clientID: String) -> SessionSnapshot? {
        guard let bytes = try? FileSystem.readFile(path, limit: 1 << 20),
            let file = SessionStateFile.decode(bytes), file.clientID == clientID
        else { return nil }
        let records = store.records(Set(file.inFlight.map(\.seq)))
        let snapshot = file.snapshot(records: records)
        store.markHandedOut(snapshot.inFlight.compactMap { records[$0.message.tag] })
        return snapshot
    }

    // MARK: Inputs

    mutating func start() {
        let recovery = store.recovery
        if recovery.isClean {
            logger.info("spool opened", metadata: ["recovery": "\(recovery)"])
        } else {
            logger.warning("spool recovered from damage", metadata: ["recovery": "\(recovery)"])
        }
        perform(machine.start(now: now))
    }

    mutating func handle(_ input: ClientInput) {
        switch input {
        case .connected(let attempt, let connection):
            guard attempt == self.attempt else {
                connection.close()
                return
            }
            self.connection = connection
            logger.info(
                "TLS established",
                metadata: [
                    "broker": "\(service.control.endpoint.host):\(service.control.endpoint.port)",
                    "protocol": "\(connection.handshake.protocolVersion)",
                    "cipher": "\(connection.handshake.cipher)",
                ]
            )
            perform(machine.connectionEstablished(now: now))
            if let earlyClose, earlyClose.attempt == attempt {
                self.earlyClose = nil
                handle(.transport(attempt: attempt, .closed(earlyClose.error)))
            }
        case .connectFailed(let attempt, let failure):
            guard attempt == self.attempt else { return }
            if let attemptTLS { service.control.report(.refused(attemptTLS, reason: failure.description)) }
            perform(
                machine.connectionFailed(reason: failure.description, isTrustFailure: failure.isTrustFailure, now: now)
            )
        case .transport(let attempt, .bytes(let bytes)):
            guard attempt == self.attempt else { return }
            perform(machine.received(bytes, now: now))
        case .transport(let attempt, .writable(let writable)):
            guard attempt == self.attempt else { return }
            perform(machine.writabilityChanged(writable, now: now))
        case .transport(let attempt, .closed(let error)):
            guard attempt == self.attempt else { return }
            guard connection != nil else {
                earlyClose = (attempt, error)
                return
            }
            connection = nil
            if !acceptedReported, let attemptTLS {
                service.control.report(
                    .refused(
                        attemptTLS,
                        reason: error.map { "connection lost: \($0)" }
                            ?? "the broker closed the connection before CONNACK"
                    )
                )
            }
            perform(
                machine.connectionClosed(
                    error: error.map { "\($0)" },
                    isTrustFailure: ConnectFailure.isTrustFailure(error),
                    now: now
                )
            )
        case .readingsAvailable:
            perform(machine.readingsAvailable(now: now))
        case .readingsFinished:
            perform(machine.readingsFinished(now: now))
        case .timer(let token):
            guard token == timerToken else { return }
            timerDeadline = nil
            perform(machine.tick(now: now))
        case .retry(let token):
            perform(machine.retryTimerFired(token: token, now: now))
        case .publish(let message):
            perform(machine.publish(message, now: now))
        case .resume:
            perform(machine.resume(now: now))
        case .reconnect(let reason):
            perform(machine.reconnect(reason: reason, now: now))
        case .publishStatus:
            perform(machine.statusRequested(now: now))
        case .shutdown:
            perform(machine.shutdownRequested(now: now))
        }
    }

    /// Hands over what to run beside the loop (connection attempts, retry timers, the deadline timer) and
    /// forgets it.
    mutating func takeLaunches() -> [Launch] {
        scheduleTimer()
        defer { launches.removeAll() }
        return launches
    }

    /// Sleeps until the machine's next deadline, not periodically: an idle agent wakes only when something is
    /// due (keep-alive, status, watchdog, a checkpoint of what is not yet durable). A deadline that moved later
    /// keeps the timer already running; its early wake-up finds nothing due and schedules again.
    private mutating func scheduleTimer() {
        guard !isFinished, let deadline = machine.nextDeadline else { return }
        if let scheduled = timerDeadline, scheduled <= deadline { return }
        timerDeadline = deadline
        timerToken += 1
        launches.append(.timer(at: origin + deadline, token: timerToken))
    }

    /// Waits until the last closed connection is gone: a process that exits right after a fire-and-forget
    /// close can end before the event loop wrote the DISCONNECT (seen with `pinpost check` under load).
    func connectionsClosed() async {
        await closing?.closed()
        await connection?.closed()
    }

    // MARK: Actions

    private mutating func perform(_ actions: [PublisherAction]) {
        defer { reportConnectionChange() }
        var queue = actions
        var index = 0
        while index < queue.count {
            let action = queue[index]
            index += 1
            switch action {
            case .connect:
                attempt += 1
                let endpoint = service.control.endpoint
                if acceptedReported { service.control.reportDisconnected() }
                attemptTLS = endpoint.tls
                acceptedReported = false
                launches.append(.connect(attempt: attempt, endpoint: endpoint))
            case .write(let bytes):
                guard let connection else { break }
                if unflushed == nil {
                    unflushed = connection.channel.allocator.buffer(capacity: max(lastBurstBytes, bytes.count))
                }
                unflushed?.writeBytes(bytes)
            case .flush:
                if let connection, let burst = unflushed, burst.readableBytes > 0 {
                    lastBurstBytes = min(burst.readableBytes, 1 << 20)
                    connection.send(burst)
                }
                unflushed = nil
            case .closeConnection:
                if let connection {
                    if !acceptedReported { refusedPending = attemptTLS }
                    connection.close()
                    closing = connection
                }
                connection = nil
                attempt += 1  // the transport's own close report is now stale
            case .startRetryTimer(let delay, let token):
                logger.info("reconnecting", metadata: ["in": "\(delay)", "pending": "\(store.statistics().depth)"])
                launches.append(.retryTimer(after: delay, token: token))
            case .resumeLater:
                launches.append(.resume)
            case .takeReadings(let limit):
                queue += machine.readingsTaken(store.takeUnsent(limit: limit), now: now)
            case .makeStatus(let request):
                let status = AgentStatus(
                    state: request.state,
                    spool: store.statistics(),
                    reconnects: request.reconnects,
                    lastDisconnect: request.lastDisconnect,
                    stream: store.stream,
                    recovery: store.recovery,
                    now: .now()
                )
                queue += machine.statusMade(status.encoded(), now: now)
            case .acknowledge(let seq):
                store.acknowledge(seq, rejected: false)
            case .reject(let seq):
                store.acknowledge(seq, rejected: true)
            case .checkpointSpool:
                do {
                    try store.checkpoint()
                } catch {
                    logger.error("spool checkpoint failed: \(error)")
                }
            case .saveSession(let file):
                do {
                    try sessionFile.save(file)
                } catch {
                    logger.error(
                        "MQTT session state not saved: \(error); after a restart the broker's session may be discarded"
                    )
                }
            case .messageReceived(let message):
                if let exchange = service.exchange {
                    exchange.deliver(message)
                } else {
                    logger.debug("message received with nobody listening", metadata: ["topic": "\(message.topic)"])
                }
            case .messageSettled(let id, let delivered):
                logger.debug("message settled", metadata: ["id": "\(id)", "delivered": "\(delivered)"])
            case .notify(let notifications):
                notify(notifications)
            case .log(let entry):
                log(entry)
            case .finished(let disconnected):
                let pending = store.statistics().depth
                if pending > 0 {
                    logger.notice(
                        disconnected
                            ? "shutting down; unacknowledged readings stay in the spool for the next start"
                            : "shutting down while disconnected; readings stay in the spool for the next start",
                        metadata: ["pending": "\(pending)"]
                    )
                }
                isFinished = true
            }
        }
    }

    private func notify(_ notifications: [ServiceNotification]) {
        guard let systemd = service.systemd else { return }
        let states: [SystemdNotifier.State] = notifications.map {
            switch $0 {
            case .status(let text): .status(text)
            case .watchdog: .watchdog
            }
        }
        do {
            try systemd.send(states)
        } catch {
            logger.debug("systemd notification failed: \(error)")
        }
    }

    /// Tells `PublisherControl`'s listeners when the broker accepted the current attempt's identity, and when a
    /// connection ended before it did.
    private mutating func reportConnectionChange() {
        if let refused = refusedPending {
            refusedPending = nil
            let reason = lastErrorLogged ?? "the connection was closed before the broker accepted it"
            service.control.report(.refused(refused, reason: reason))
        }
        lastErrorLogged = nil
        if machine.isConnected, !acceptedReported, let attemptTLS {
            acceptedReported = true
            service.control.report(.accepted(attemptTLS))
        } else if !machine.isConnected, acceptedReported {
            acceptedReported = false
            service.control.reportDisconnected()
        }
    }

    private mutating func log(_ entry: PublisherLogEntry) {
        if entry.level == .error { lastErrorLogged = entry.message }
        let level: Logger.Level =
            switch entry.level {
            case .debug: .debug
            case .info: .info
            case .notice: .notice
            case .warning: .warning
            case .error: .error
            }
        logger.log(level: level, "\(entry.message)", metadata: entry.metadata.mapValues { .string($0) })
    }
}
