internal import DurableSpool
internal import Logging
internal import MQTT
internal import Publisher
internal import SystemExtras
internal import TLS
internal import Timestamps

/// The publisher's state between inputs.
struct PublisherLoop {
    private enum Phase {
        case disconnected
        case connected(BrokerConnection, since: Duration)
    }

    /// Tags above this are the agent's own status messages, not spool seqs.
    static let statusTag = UInt64.max - 1
    /// How many readings the session may hold (in flight plus queued); the rest wait in the spool.
    static let sessionWindow = 256
    /// A broker close this soon after CONNACK looks like a client-id takeover.
    static let takeoverWindow = Duration.seconds(10)

    let service: PublisherService
    let continuation: AsyncStream<ClientInput>.Continuation
    private var session: ClientSession
    private var phase = Phase.disconnected
    private var generation = 0
    private var backoff: Backoff
    private var slowBackoff: Backoff
    private var lastFailure: String?
    private var lastDisconnect: String?
    private var reconnects = 0
    /// Consecutive connections the broker closed soon after accepting them (a client-id takeover pattern).
    private var earlyCloses = 0
    private var everConnected = false
    private var shuttingDown = false
    private var readingsFinished = false
    private var drainDeadline: Duration?
    private var offlineStatusQueued = false
    private var lastCheckpoint = Duration.zero
    private var lastStatus = Duration.zero
    private var lastWatchdog = Duration.zero
    /// Packets written since the last flush; flushed once per input, so a burst leaves together.
    private var unflushed = false
    /// True once a CONNACK was accepted or a session was restored: from then on the session file exists.
    private var holdsSession = false
    private var lastSessionFile: [UInt8] = []
    /// The connection a clean shutdown closed; the loop waits for its close before it returns.
    private var closing: BrokerConnection?
    private let restoredInFlight: Int?
    private let watchdogInterval = SystemdNotifier.processPingInterval()
    private var toldReady = false
    /// `feedSession` is running; a nested call sets `feedRequested` instead of recursing.
    private var feeding = false
    private var feedRequested = false
    private let clock = ContinuousClock()
    private let origin: ContinuousClock.Instant
    private let topics: Topics
    private var logger: Logger { service.logger }
    private var spool: any ReadingStore { service.spool }

    init(service: PublisherService, continuation: AsyncStream<ClientInput>.Continuation) {
        self.service = service
        self.continuation = continuation
        self.origin = clock.now
        let configuration = service.configuration
        self.topics = Topics(deviceID: configuration.device.id)
        let settings = SessionSettings.make(configuration)
        let restored = Self.restoreSession(spool: service.spool, clientID: configuration.device.id)
        if let restored {
            self.session = ClientSession(configuration: settings, restoring: restored.snapshot)
            self.holdsSession = true
        } else {
            self.session = ClientSession(configuration: settings)
        }
        self.restoredInFlight = restored?.snapshot.inFlight.count
        self.backoff = Backoff(base: configuration.reconnect.initial, cap: configuration.reconnect.max)
        // Trust and authorization failures: start at a minute, never faster than the normal cap allows.
        self.slowBackoff = Backoff(
            base: max(.seconds(60), configuration.reconnect.initial),
            cap: max(.seconds(900), configuration.reconnect.max)
        )
    }

    private var now: Duration { clock.now - origin }

    /// The MQTT session as the last run left it, with message bodies from the spool.
    private static func restoreSession(
        spool: any ReadingStore,
        clientID: String
    ) -> (snapshot: SessionSnapshot, records: [SpoolRecord])? {
        guard let bytes = try? FileSystem.readFile(SessionStateFile.path(inSpoolFolder: spool.folder), limit: 1 << 20),
            let file = SessionStateFile.decode(bytes), file.clientID == clientID
        else { return nil }
        let records = spool.records(Set(file.inFlight.map(\.seq)))
        let snapshot = file.snapshot(records: records)
        spool.markHandedOut(snapshot.inFlight.compactMap { records[$0.message.tag] })
        return (snapshot, Array(records.values))
    }

    mutating func run(inputs: AsyncStream<ClientInput>) async {
        if let restoredInFlight {
            logger.info("resuming the MQTT session of the last run", metadata: ["in_flight": "\(restoredInFlight)"])
        }
        let recovery = spool.recovery
        if recovery.isClean {
            logger.info("spool opened", metadata: ["recovery": "\(recovery)"])
        } else {
            logger.warning("spool recovered from damage", metadata: ["recovery": "\(recovery)"])
        }
        feedSession()
        await connect()
        flushWrites()
        if !toldReady {
            // The clock gate passed and the agent is now waiting for the broker: start-up is done.
            notifySystemd([.ready, .status("waiting for the broker")])
            toldReady = true
        }
        for await input in inputs {
            switch input {
            case .transport(let eventGeneration, let event):
                guard eventGeneration == generation else { continue }
                handle(event)
            case .readingsAvailable:
                feedSession()
            case .readingsFinished:
                readingsFinished = true
            case .tick:
                onTick()
            case .retry(let retryGeneration):
                if retryGeneration == generation, case .disconnected = phase, !shuttingDown {
                    await connect()
                }
            case .shutdown:
                shuttingDown = true
                drainDeadline = now + service.drainTimeout
            }
            flushWrites()
            if shuttingDown, finishIfDone() {
                // The DISCONNECT (and TLS close_notify) must leave before the process does.
                await closing?.closed()
                return
            }
        }
    }

    private mutating func onTick() {
        if case .connected = phase {
            perform(session.tick(now: now))
        }
        if let watchdogInterval, now - lastWatchdog >= watchdogInterval {
            // Pinged from the loop itself, so a wedged loop stops the pings and systemd restarts it.
            lastWatchdog = now
            notifySystemd([.watchdog])
        }
        if checkpointDue {
            checkpoint()
        }
        if case .connected = phase, !shuttingDown, now - lastStatus >= service.configuration.statusInterval {
            publishStatus("online")
        }
    }

    private var checkpointDue: Bool {
        switch service.configuration.spool.fsync {
        case .always: return now - lastCheckpoint >= .seconds(1)
        case .interval(let interval): return now - lastCheckpoint >= interval
        }
    }

    private mutating func checkpoint() {
        lastCheckpoint = now
        do {
            try spool.checkpoint()
        } catch {
            logger.error("spool checkpoint failed: \(error)")
        }
        saveSessionState()
    }

    /// Writes the session file when it changed (acknowledgements are checkpointed first, so a
    /// crash between the two can only make the session remember more, never less).
    private mutating func saveSessionState() {
        guard holdsSession else { return }
        let file = SessionStateFile(snapshot: session.persistentState) { $0 < Self.statusTag }
        let bytes = file.encoded()
        guard bytes != lastSessionFile else { return }
        do {
            try FileSystem.writeFileAtomically(SessionStateFile.path(inSpoolFolder: spool.folder), bytes)
            lastSessionFile = bytes
        } catch {
            logger.error(
                "MQTT session state not saved: \(error); after a restart the broker's session may be discarded"
            )
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
            phase = .connected(connection, since: now)
            logger.info(
                "TLS established",
                metadata: [
                    "broker": "\(configuration.broker.host):\(configuration.broker.port)",
                    "protocol": "\(connection.handshake.protocolVersion)",
                    "cipher": "\(connection.handshake.cipher)",
                ]
            )
            perform(session.connectionEstablished(now: now))
        } catch {
            // A broker that cannot be reached after closing on us is restarting, not serving another client
            // with our id (that one would accept us again at once): the takeover pattern starts over.
            earlyCloses = 0
            scheduleRetry(after: error.description, slow: error.isTrustFailure)
        }
    }

    /// Marks the connection gone and schedules the next attempt.
    private mutating func scheduleRetry(after failure: String, slow: Bool) {
        if case .connected(_, let since) = phase, now - since >= service.configuration.reconnect.stableAfter {
            // It was a good connection: start the back-off over.
            backoff.reset()
            slowBackoff.reset()
        }
        phase = .disconnected
        lastDisconnect = failure
        if shuttingDown { return }
        notifySystemd([.status("disconnected, retrying: \(failure)")])
        let uniform = Double.random(in: 0..<1)
        let delay = slow ? slowBackoff.nextDelay(uniform: uniform) : backoff.nextDelay(uniform: uniform)
        // A repeated failure is logged once per change, not once per attempt.
        if failure != lastFailure {
            logger.error("connection failed: \(failure)")
            lastFailure = failure
        }
        logger.info("reconnecting", metadata: ["in": "\(delay)", "pending": "\(spool.statistics().depth)"])
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
            guard case .connected(_, let since) = phase else { return }
            let wasAccepted = session.isConnected
            perform(session.connectionLost())
            var reason = error.map { "connection lost: \($0)" } ?? "connection closed by the broker"
            earlyCloses = error == nil && wasAccepted && now - since < Self.takeoverWindow ? earlyCloses + 1 : 0
            if earlyCloses >= 2 {
                // MQTT 3.1.1 brokers (and Mosquitto 2.0 for 5.0) drop the older connection without a
                // reason when a client id is reused: a close soon after CONNACK is that pattern.
                reason =
                    "connection closed by the broker soon after CONNACK, \(earlyCloses) times in a row: another client may be using client id '\(service.configuration.device.id)' (brokers drop the older connection)"
            }
            let trust =
                (error as? TLSError).map { [.verification, .rejectedByBroker, .ocsp].contains($0.kind) } ?? false
            scheduleRetry(after: reason, slow: trust)
        }
    }

    // MARK: Publishing

    /// Moves readings from the spool into the session while its window has room.
    ///
    /// Not re-entrant: a QoS 0 PUBLISH is reported `delivered` while it is being fed, and feeding
    /// again from there recursed once per reading, which overflowed the stack with a backlog of
    /// thousands of QoS 0 readings (found by `pinpost bench --qos 0`). A nested call now only asks
    /// the outer one to go round again.
    private mutating func feedSession() {
        guard !feeding else {
            feedRequested = true
            return
        }
        feeding = true
        defer { feeding = false }
        repeat {
            feedRequested = false
            feedSessionOnce()
        } while feedRequested
    }

    private mutating func feedSessionOnce() {
        let room = Self.sessionWindow - session.inFlightCount - session.queuedCount
        guard room > 0 else { return }
        for record in spool.takeUnsent(limit: room) {
            do {
                let actions = try session.publish(
                    topic: record.topic,
                    payload: record.payload,
                    qos: QoS(rawValue: record.qos) ?? .atLeastOnce,
                    retain: false,
                    tag: record.seq,
                    now: now
                )
                perform(actions)
            } catch {
                logger.error(
                    "reading cannot be published and is discarded",
                    metadata: ["seq": "\(record.seq)", "reason": "\(error)"]
                )
                spool.acknowledge(record.seq, rejected: true)
            }
        }
    }

    private mutating func publishStatus(_ state: String) {
        lastStatus = now
        let status = AgentStatus(
            state: state,
            spool: spool.statistics(),
            reconnects: reconnects,
            lastDisconnect: lastDisconnect,
            now: .now()
        )
        do {
            perform(
                try session.publish(
                    topic: topics.status,
                    payload: status.encoded(),
                    qos: .atLeastOnce,
                    retain: true,
                    tag: Self.statusTag,
                    now: now
                )
            )
        } catch {
            logger.error("status not published", metadata: ["reason": "\(error)"])
        }
    }

    // MARK: Session actions

    private mutating func write(_ bytes: [UInt8]) {
        if case .connected(let connection, _) = phase {
            connection.write(bytes)
            unflushed = true
        }
    }

    private mutating func flushWrites() {
        guard unflushed else { return }
        unflushed = false
        if case .connected(let connection, _) = phase {
            connection.flush()
        }
    }

    private mutating func perform(_ actions: [SessionAction]) {
        let plan = SessionActionPlan(actions)
        for bytes in plan.writeFirst { write(bytes) }
        for action in plan.then {
            switch action {
            case .send(let bytes):
                write(bytes)
            case .close(let reason):
                guard case .connected(let connection, _) = phase else { continue }
                flushWrites()
                connection.close()
                generation += 1  // the transport's own close report is now stale
                perform(session.connectionLost())
                switch reason {
                case .clientDisconnect:
                    phase = .disconnected
                case .keepAliveTimeout:
                    scheduleRetry(
                        after:
                            "keep-alive timeout: the broker did not answer within the ping timeout (dead connection?)",
                        slow: false
                    )
                case .connectionRefused:
                    scheduleRetry(after: lastDisconnect ?? "CONNACK refused", slow: true)
                case .protocolError:
                    scheduleRetry(after: lastDisconnect ?? "MQTT protocol error", slow: false)
                case .serverDisconnect:
                    scheduleRetry(after: lastDisconnect ?? "DISCONNECT from the broker", slow: false)
                }
            case .event(let event):
                handle(event)
            }
        }
    }

    private mutating func handle(_ event: SessionEvent) {
        switch event {
        case .connected(let sessionPresent, let connack):
            if everConnected { reconnects += 1 }
            everConnected = true
            holdsSession = true
            saveSessionState()
            logger.info(
                "MQTT connected",
                metadata: ["client_id": "\(service.configuration.device.id)", "session_present": "\(sessionPresent)"]
            )
            warnAboutMaximumQoS(connack.properties.maximumQoS)
            lastFailure = nil
            publishStatus("online")
            feedSession()
            notifySystemd(
                (toldReady ? [] : [.ready]) + [
                    .status("connected to \(service.configuration.broker.host):\(service.configuration.broker.port)")
                ]
            )
            toldReady = true
        case .connectionRefused(let reason, let notice):
            lastDisconnect = "CONNACK refused: \(reason)" + (notice.isEmpty ? "" : " (\(notice))")
        case .delivered(let tag):
            if tag < Self.statusTag {
                spool.acknowledge(tag, rejected: false)
                feedSession()
            }
        case .deliveryFailed(let tag, let reason):
            if tag < Self.statusTag {
                logger.error(
                    "broker refused a reading; it will not be retried",
                    metadata: ["seq": "\(tag)", "reason": "\(reason)"]
                )
                spool.acknowledge(tag, rejected: true)
                feedSession()
            }
        case .messageReceived(let message):
            logger.debug("message received", metadata: ["topic": "\(message.topic)"])
        case .subscribed, .unsubscribed, .resubscribed:
            break
        case .disconnectedByServer(let reason, let notice):
            if reason == .sessionTakenOver {
                lastDisconnect =
                    "session taken over: another client connected with client id '\(service.configuration.device.id)'"
                logger.warning("\(lastDisconnect!); backing off instead of fighting it")
            } else {
                // A Server Reference (0x9C/0x9D) is reported, not followed: the configured broker stays the only
                // one this device trusts to send it elsewhere, and an operator decides.
                let said = notice.isEmpty ? "" : " (\(notice))"
                lastDisconnect = "DISCONNECT from the broker: \(reason)\(said)"
                logger.warning("broker sent DISCONNECT: \(reason)\(said)")
            }
        case .protocolError(let detail):
            lastDisconnect = "MQTT protocol error: \(detail)"
            logger.error("MQTT protocol error from broker: \(detail)")
        }
    }

    /// A broker with a Maximum QoS below a sensor's QoS weakens (downgrade) or drops (refuse) that sensor's readings;
    /// say so once per connection, naming the sensors and the config key that decides.
    private func warnAboutMaximumQoS(_ maximum: QoS?) {
        guard let maximum else { return }
        let affected = service.configuration.sensors.filter { $0.qos > maximum }.map(\.name)
        guard !affected.isEmpty else { return }
        let metadata: Logger.Metadata = [
            "maximum_qos": "\(maximum.rawValue)", "sensors": "\(affected.joined(separator: ","))",
        ]
        switch service.configuration.broker.qosAboveMaximum {
        case .downgrade:
            logger.warning(
                "broker's Maximum QoS is below these sensors' QoS; their readings are sent at QoS \(maximum.rawValue) (set broker.qos_above_maximum = \"refuse\" to drop them instead)",
                metadata: metadata
            )
        case .refuse:
            logger.warning(
                "broker's Maximum QoS is below these sensors' QoS; their readings are refused and dropped (broker.qos_above_maximum = \"refuse\"; \"downgrade\" sends them at the lower QoS)",
                metadata: metadata
            )
        }
    }

    private func notifySystemd(_ states: [SystemdNotifier.State]) {
        guard let systemd = service.systemd else { return }
        do {
            try systemd.send(states)
        } catch {
            logger.debug("systemd notification failed: \(error)")
        }
    }

    // MARK: Shutdown

    /// Once readings have stopped: flush what is in flight (bounded), say offline, DISCONNECT.
    /// Returns true when the loop may end. Whatever is not acknowledged stays in the spool.
    private mutating func finishIfDone() -> Bool {
        let timedOut = drainDeadline.map { now >= $0 } ?? false
        guard readingsFinished || timedOut else { return false }
        guard case .connected = phase else {
            let pending = spool.statistics().depth
            if pending > 0 {
                logger.notice(
                    "shutting down while disconnected; readings stay in the spool for the next start",
                    metadata: ["pending": "\(pending)"]
                )
            }
            checkpoint()
            return true
        }
        let inFlight = session.inFlightCount + session.queuedCount
        if inFlight > 0 && !timedOut { return false }
        if !offlineStatusQueued {
            offlineStatusQueued = true
            publishStatus("offline")
            return false
        }
        if session.inFlightCount + session.queuedCount > 0 && !timedOut { return false }
        let pending = spool.statistics().depth
        if pending > 0 {
            logger.notice(
                "shutting down; unacknowledged readings stay in the spool for the next start",
                metadata: ["pending": "\(pending)"]
            )
        }
        if case .connected(let connection, _) = phase { closing = connection }
        perform(session.disconnect(now: now))
        flushWrites()
        if case .connected(let connection, _) = phase {
            connection.close()
        }
        checkpoint()
        logger.info("disconnected")
        return true
    }
}
