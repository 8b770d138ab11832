public import DurableSpool
public import MQTT

/// The publisher's decisions without I/O: when to connect and how long to back off, what to do with
/// the bytes the broker sends, when to take readings from the spool into the MQTT session, when to
/// checkpoint, publish the status and ping the watchdog, and how to drain on shutdown.
///
/// Built like `ClientSession`: every input is a method that takes `now` (monotonic, from an origin the
/// driver chooses) and returns `PublisherAction`s in order; a thin driver performs them. Randomness (the
/// back-off's jitter) comes from the injected generator, so tests replay exact delays.
///
/// The MQTT session's actions are applied in one place (`perform`): its bytes are written first, then
/// its events and its close are handled in order. Handling an event never feeds the session directly; it
/// asks the driver for readings at the end of the step (`takeReadings`), so a delivery cannot re-enter
/// the session, however long a QoS 0 backlog is, and new readings never overtake the bytes of the batch
/// that freed their room (a PUBLISH binding a Topic Alias, or the resends of a resumed session).
public struct PublisherMachine<Random: RandomNumberGenerator & Sendable>: Sendable {
    private enum Phase: Sendable, Equatable {
        /// Not connected and no attempt pending: before `start`, after a clean DISCONNECT, or stopping.
        case idle
        /// TCP and TLS are being opened.
        case connecting
        /// TLS is up (CONNACK may still be awaited).
        case connected(since: Duration)
        /// A reconnect is scheduled; only the timer with this token counts.
        case waitingToRetry(token: Int)
        /// Shutdown is complete; every later input is ignored.
        case finished
    }

    /// A session output that must wait until the bytes of its batch are written.
    private enum Deferred: Sendable {
        case event(SessionEvent)
        case close(CloseReason)
    }

    /// Tags at or above this are the agent's own messages, not spool seqs: the status, and messages given to
    /// `publish(_:now:)` (tag = this + their id). Seqs never get near it.
    public static var firstOwnTag: UInt64 { 1 << 62 }
    /// The tag of the status message.
    public static var statusTag: UInt64 { UInt64.max - 1 }

    public let configuration: PublisherConfiguration
    private var session: ClientSession
    private var random: Random
    private var phase = Phase.idle
    private var backoff: Backoff
    /// Trust and authorization failures: retrying fast cannot fix them.
    private var slowBackoff: Backoff
    private var retryToken = 0
    private var lastFailure: String?
    private var lastDisconnect: String?
    private var reconnects = 0
    private var everConnected = false
    /// Consecutive connections the broker closed soon after accepting them (the client-id takeover pattern).
    private var earlyCloses = 0
    /// True once a CONNACK was accepted or a session was restored: from then on the session file exists.
    private var holdsSession: Bool
    /// The service status already says the first connection attempt is over.
    private var reportedFirstAttempt = false
    /// The configured subscriptions were requested (once per process: the session keeps them standing).
    private var subscribed = false
    /// A reconnect was asked for while an attempt with the old settings was under way: redo it once it ends.
    private var reconnectAfterAttempt = false
    /// The session file must be written (a CONNACK was accepted) once the step's bytes are flushed.
    private var sessionFileDue = false

    // Feeding the session from the spool.
    /// False once the spool answered a request with fewer readings than asked; true again when it reports new ones.
    private var readingsMayBeWaiting = true
    /// The limit of the `takeReadings` request the driver has not answered yet.
    private var requestedReadings: Int?
    private var statusRequests = 0
    /// Rounds of readings taken since the driver's last input: one per input while connected, so a backlog
    /// (QoS 0 frees its room at once) drains round by round with a flush in between, not in one unbounded step.
    private var roundsSinceInput = 0
    private var resumeRequested = false
    /// The connection's send buffer is below NIO's high water mark: while it is not, no readings are taken, so a
    /// backlog drains at the socket's pace with flat memory.
    private var writable = true

    // Shutdown.
    private var shuttingDown = false
    private var readingsFinished = false
    private var drainDeadline: Duration?
    private var offlineStatusQueued = false

    // Cadence.
    /// Since when something awaits a checkpoint (appended readings, acknowledgements, session changes): it must be
    /// durable within `checkpointInterval` of that. nil: nothing to make durable, so an idle agent never wakes for it.
    private var dirtySince: Duration?
    private var lastStatus = Duration.zero
    private var lastWatchdog = Duration.zero

    // The step being computed.
    /// The `now` of the input being handled.
    private var stepTime = Duration.zero
    private var output: [PublisherAction] = []
    private var deferred: [Deferred] = []
    private var unflushed = false

    /// - Parameters:
    ///   - session: the MQTT session, restored from the last run's session file or new.
    ///   - holdsSession: whether `session` was restored (then the session file must be kept current).
    public init(configuration: PublisherConfiguration, session: ClientSession, holdsSession: Bool, random: Random) {
        self.configuration = configuration
        self.session = session
        self.holdsSession = holdsSession
        self.random = random
        self.backoff = Backoff(base: configuration.backoffInitial, cap: configuration.backoffMaximum)
        self.slowBackoff = Backoff(
            base: max(.seconds(60), configuration.backoffInitial),
            cap: max(.seconds(900), configuration.backoffMaximum)
        )
    }

    // MARK: Observation

    /// True once shutdown is complete.
    public var isFinished: Bool { phase == .finished }
    /// True between an accepted CONNACK and the end of the connection.
    public var isConnected: Bool { session.isConnected }
    /// Readings (and status messages) the MQTT session holds: in flight plus queued.
    public var sessionLoad: Int { session.inFlightCount + session.queuedCount }

    /// When `tick` must next be called (keep-alive, CONNACK or PINGRESP due, a checkpoint of what is not yet
    /// durable, the status refresh, the watchdog ping, the drain deadline), or nil when nothing is due: the
    /// driver sleeps until then instead of waking periodically.
    public var nextDeadline: Duration? {
        guard phase != .finished else { return nil }
        var deadline: Duration?
        func consider(_ candidate: Duration?) {
            guard let candidate else { return }
            deadline = deadline.map { min($0, candidate) } ?? candidate
        }
        if case .connected = phase {
            consider(session.nextDeadline)
            if !shuttingDown { consider(lastStatus + configuration.statusInterval) }
        }
        consider(dirtySince.map { $0 + configuration.checkpointInterval })
        consider(configuration.watchdogInterval.map { lastWatchdog + $0 })
        if shuttingDown { consider(drainDeadline) }
        return deadline
    }

    // MARK: Inputs

    /// The first input: take what the spool holds into the session and connect.
    public mutating func start(now: Duration) -> [PublisherAction] {
        beginInput(now)
        guard phase == .idle, !shuttingDown else { return [] }
        phase = .connecting
        output.append(.connect)
        return endStep(now: now)
    }

    /// TCP and TLS are up and the broker's certificate is verified: send CONNECT.
    public mutating func connectionEstablished(now: Duration) -> [PublisherAction] {
        beginInput(now)
        guard phase == .connecting else {
            // An attempt that finished after shutdown: not wanted any more.
            return [.closeConnection]
        }
        if reconnectAfterAttempt {
            // Made with the settings a reconnect replaced: close it unused and connect with the new ones.
            reconnectAfterAttempt = false
            output.append(.closeConnection)
            output.append(.connect)
            return endStep(now: now)
        }
        phase = .connected(since: now)
        writable = true
        perform(session.connectionEstablished(now: now))
        reportFirstAttemptOnce()
        return endStep(now: now)
    }

    /// Ends the connection cleanly (DISCONNECT, the session kept, no Will) and connects again at once, without
    /// back-off: the broker, the TLS context or the device's identity changed (a new configuration, a renewed
    /// certificate). Readings wait in the session and the spool meanwhile; none is lost.
    public mutating func reconnect(reason: String, now: Duration) -> [PublisherAction] {
        beginInput(now)
        guard !shuttingDown else { return endStep(now: now) }
        switch phase {
        case .connected:
            log(.info, "reconnecting: \(reason)")
            perform(session.disconnect(now: now))
            if case .connected = phase { handleClose(.clientDisconnect) }
            phase = .connecting
            output.append(.connect)
        case .waitingToRetry, .idle:
            log(.info, "reconnecting: \(reason)")
            backoff.reset()
            slowBackoff.reset()
            phase = .connecting
            output.append(.connect)
        case .connecting:
            reconnectAfterAttempt = true
        case .finished:
            break
        }
        return endStep(now: now)
    }

    /// Publishes the retained status now (an operator's `publish_status` command), when the broker has accepted
    /// the connection and no shutdown is under way; otherwise the next CONNACK publishes it anyway.
    public mutating func statusRequested(now: Duration) -> [PublisherAction] {
        beginInput(now)
        if case .connected = phase, session.isConnected, !shuttingDown {
            requestStatus("online", now: now)
        }
        return endStep(now: now)
    }

    /// The connection attempt failed; `reason` names the cause and its fix.
    /// - Parameter isTrustFailure: certificate or authorization trouble, which takes the slow back-off.
    public mutating func connectionFailed(reason: String, isTrustFailure: Bool, now: Duration) -> [PublisherAction] {
        beginInput(now)
        guard phase == .connecting else { return [] }
        if reconnectAfterAttempt {
            reconnectAfterAttempt = false
            output.append(.connect)
            return endStep(now: now)
        }
        // A broker that cannot be reached after closing on us is restarting, not serving another client
        // with our id (that one would accept us again at once): the takeover pattern starts over.
        earlyCloses = 0
        scheduleRetry(after: reason, slow: isTrustFailure, now: now)
        reportFirstAttemptOnce()
        return endStep(now: now)
    }

    /// Bytes from the broker.
    public mutating func received(_ bytes: [UInt8], now: Duration) -> [PublisherAction] {
        beginInput(now)
        guard case .connected = phase else { return [] }
        perform(session.received(bytes, now: now))
        return endStep(now: now)
    }

    /// The connection ended without the publisher asking for it.
    /// - Parameters:
    ///   - error: why, when the transport knows (nil: the broker closed it cleanly).
    ///   - isTrustFailure: a TLS alert about a certificate (the broker refusing this device), slow back-off.
    public mutating func connectionClosed(error: String?, isTrustFailure: Bool, now: Duration) -> [PublisherAction] {
        beginInput(now)
        guard case .connected(let since) = phase else { return [] }
        let wasAccepted = session.isConnected
        perform(session.connectionLost())
        var reason = error.map { "connection lost: \($0)" } ?? "connection closed by the broker"
        let early = error == nil && wasAccepted && now - since < configuration.takeoverWindow
        earlyCloses = early ? earlyCloses + 1 : 0
        if earlyCloses >= 2 {
            // MQTT 3.1.1 brokers (and Mosquitto 2.0 for 5.0) drop the older connection without a
            // reason when a client id is reused: a close soon after CONNACK is that pattern.
            reason =
                "connection closed by the broker soon after CONNACK, \(earlyCloses) times in a row: another client may be using client id '\(configuration.clientID)' (brokers drop the older connection)"
        }
        scheduleRetry(after: reason, slow: isTrustFailure, now: now)
        return endStep(now: now)
    }

    /// The spool holds new readings.
    public mutating func readingsAvailable(now: Duration) -> [PublisherAction] {
        beginInput(now)
        readingsMayBeWaiting = true
        markDirty()
        return endStep(now: now)
    }

    /// The sensors stopped: nothing more will be appended.
    public mutating func readingsFinished(now: Duration) -> [PublisherAction] {
        beginInput(now)
        readingsFinished = true
        return endStep(now: now)
    }

    /// The periodic wake-up: keep-alive, watchdog, checkpoint, status, drain deadline.
    public mutating func tick(now: Duration) -> [PublisherAction] {
        beginInput(now)
        if case .connected = phase {
            perform(session.tick(now: now))
        }
        if let interval = configuration.watchdogInterval, now - lastWatchdog >= interval, phase != .finished {
            // Pinged from the publisher itself, so a wedged publisher stops the pings and systemd restarts it.
            lastWatchdog = now
            output.append(.notify([.watchdog]))
        }
        if let dirtySince, now >= dirtySince + configuration.checkpointInterval, phase != .finished {
            checkpoint(now: now)
        }
        if case .connected = phase, !shuttingDown, now - lastStatus >= configuration.statusInterval {
            requestStatus("online", now: now)
        }
        return endStep(now: now)
    }

    /// The timer of `startRetryTimer` fired.
    public mutating func retryTimerFired(token: Int, now: Duration) -> [PublisherAction] {
        beginInput(now)
        guard phase == .waitingToRetry(token: token), !shuttingDown else { return endStep(now: now) }
        phase = .connecting
        output.append(.connect)
        return endStep(now: now)
    }

    /// SIGTERM: finish what is in flight (up to `drainTimeout`), say offline, DISCONNECT.
    public mutating func shutdownRequested(now: Duration) -> [PublisherAction] {
        beginInput(now)
        if !shuttingDown {
            shuttingDown = true
            drainDeadline = now + configuration.drainTimeout
        }
        if case .waitingToRetry = phase { phase = .idle }
        return endStep(now: now)
    }

    /// The connection's send buffer crossed a water mark.
    public mutating func writabilityChanged(_ writable: Bool, now: Duration) -> [PublisherAction] {
        beginInput(now)
        if case .connected = phase { self.writable = writable }
        return endStep(now: now)
    }

    /// The answer to `resumeLater`: take the next round of readings if there is room.
    public mutating func resume(now: Duration) -> [PublisherAction] {
        beginInput(now)
        resumeRequested = false
        return endStep(now: now)
    }

    /// The answer to `takeReadings`: the records the spool handed out, oldest first.
    public mutating func readingsTaken(_ records: [SpoolRecord], now: Duration) -> [PublisherAction] {
        stepTime = now
        let asked = requestedReadings ?? 0
        requestedReadings = nil
        if records.count < asked { readingsMayBeWaiting = false }
        if !records.isEmpty { markDirty() }
        for record in records {
            do {
                let actions = try session.publish(
                    topic: record.topic,
                    payload: record.payload,
                    qos: QoS(rawValue: record.qos) ?? .atLeastOnce,
                    retain: false,
                    properties: record.publishProperties,
                    tag: record.seq,
                    now: now
                )
                perform(actions)
            } catch {
                log(
                    .error,
                    "reading cannot be published and is discarded",
                    ["seq": "\(record.seq)", "reason": "\(error)"]
                )
                output.append(.reject(seq: record.seq))
            }
        }
        return endStep(now: now)
    }

    /// The answer to `makeStatus`: the encoded status message.
    public mutating func statusMade(_ payload: [UInt8], now: Duration) -> [PublisherAction] {
        stepTime = now
        statusRequests = max(0, statusRequests - 1)
        do {
            let actions = try session.publish(
                topic: configuration.statusTopic,
                payload: payload,
                qos: .atLeastOnce,
                retain: true,
                tag: Self.statusTag,
                now: now
            )
            perform(actions)
        } catch {
            log(.error, "status not published", ["reason": "\(error)"])
        }
        return endStep(now: now)
    }

    /// Sends a message that is not a reading (a reply, an output's state) through the session, in order with the
    /// rest; `messageSettled` reports its end. While disconnected, QoS 1/2 messages wait in the session.
    public mutating func publish(_ message: OutboundMessage, now: Duration) -> [PublisherAction] {
        beginInput(now)
        guard phase != .finished, message.id < Self.statusTag - Self.firstOwnTag else {
            return [.messageSettled(id: message.id, delivered: false)]
        }
        do {
            let actions = try session.publish(
                topic: message.topic,
                payload: message.payload,
                qos: message.qos,
                retain: message.retain,
                properties: message.properties,
                tag: Self.firstOwnTag + message.id,
                now: now
            )
            perform(actions)
        } catch {
            log(.error, "message not published", ["topic": message.topic, "reason": "\(error)"])
            output.append(.messageSettled(id: message.id, delivered: false))
        }
        return endStep(now: now)
    }

    // MARK: The step

    private mutating func beginInput(_ now: Duration) {
        stepTime = now
        roundsSinceInput = 0
    }

    /// Everything every input ends with: take readings while the session has room, check whether a
    /// shutdown is done, and flush once what was written (unless a request is still to be answered, whose
    /// bytes belong to the same burst).
    private mutating func endStep(now: Duration) -> [PublisherAction] {
        finishIfDone(now: now)
        requestReadingsIfRoom()
        if requestedReadings == nil && statusRequests == 0 {
            if unflushed {
                output.append(.flush)
                unflushed = false
            }
            if sessionFileDue {
                sessionFileDue = false
                output.append(.saveSession(sessionFile))
            }
        }
        defer { output.removeAll(keepingCapacity: true) }
        return output
    }

    /// Applies one batch of session actions: bytes at once, events and the close afterwards, in order.
    private mutating func perform(_ actions: [SessionAction]) {
        apply(actions)
        var index = 0
        while index < deferred.count {
            let next = deferred[index]
            index += 1
            switch next {
            case .event(let event): handle(event)
            case .close(let reason): handleClose(reason)
            }
        }
        deferred.removeAll(keepingCapacity: true)
    }

    /// Writes the batch's bytes and queues the rest; handlers call this (never `perform`), so the loop in
    /// `perform` picks up what they add, in order.
    private mutating func apply(_ actions: [SessionAction]) {
        for action in actions {
            switch action {
            case .send(let bytes):
                output.append(.write(bytes))
                unflushed = true
            case .event(let event):
                deferred.append(.event(event))
            case .close(let reason):
                deferred.append(.close(reason))
            }
        }
    }

    private mutating func requestReadingsIfRoom() {
        guard readingsMayBeWaiting, requestedReadings == nil, phase != .finished else { return }
        let room = configuration.sessionWindow - sessionLoad
        guard room > 0 else { return }
        if case .connected = phase {
            guard writable else { return }
            guard roundsSinceInput == 0 else {
                if !resumeRequested {
                    resumeRequested = true
                    output.append(.resumeLater)
                }
                return
            }
        }
        roundsSinceInput += 1
        requestedReadings = room
        output.append(.takeReadings(limit: room))
    }

    private mutating func requestStatus(_ state: String, now: Duration) {
        lastStatus = now
        statusRequests += 1
        output.append(.makeStatus(StatusRequest(state: state, reconnects: reconnects, lastDisconnect: lastDisconnect)))
    }

    private mutating func markDirty() {
        if dirtySince == nil { dirtySince = stepTime }
    }

    private mutating func checkpoint(now: Duration) {
        dirtySince = nil
        output.append(.checkpointSpool)
        if holdsSession {
            output.append(.saveSession(sessionFile))
        }
    }

    /// The persistable session: in-flight readings by seq; status messages are left out (the spool does not hold them).
    private var sessionFile: SessionStateFile {
        SessionStateFile(snapshot: session.persistentState) { $0 < Self.firstOwnTag }
    }

    private mutating func reportFirstAttemptOnce() {
        guard !reportedFirstAttempt else { return }
        reportedFirstAttempt = true
        output.append(.notify([.status("waiting for the broker")]))
    }

    private mutating func log(_ level: PublisherLogEntry.Level, _ message: String, _ metadata: [String: String] = [:]) {
        output.append(.log(PublisherLogEntry(level, message, metadata)))
    }

    // MARK: Connection

    /// Marks the connection gone and, unless shutting down, schedules the next attempt.
    private mutating func scheduleRetry(after failure: String, slow: Bool, now: Duration) {
        if case .connected(let since) = phase, now - since >= configuration.stableAfter {
            // It was a good connection: start the back-off over.
            backoff.reset()
            slowBackoff.reset()
        }
        lastDisconnect = failure
        guard !shuttingDown else {
            phase = .idle
            return
        }
        output.append(.notify([.status("disconnected, retrying: \(failure)")]))
        let uniform = Double.random(in: 0..<1, using: &random)
        let delay = slow ? slowBackoff.nextDelay(uniform: uniform) : backoff.nextDelay(uniform: uniform)
        // A repeated failure is logged once per change, not once per attempt.
        if failure != lastFailure {
            log(.error, "connection failed: \(failure)")
            lastFailure = failure
        }
        retryToken += 1
        phase = .waitingToRetry(token: retryToken)
        output.append(.startRetryTimer(after: delay, token: retryToken))
    }

    /// The session asked for the connection to be closed.
    private mutating func handleClose(_ reason: CloseReason) {
        guard case .connected = phase else { return }
        if unflushed {
            output.append(.flush)
            unflushed = false
        }
        output.append(.closeConnection)
        apply(session.connectionLost())
        let now = stepTime
        switch reason {
        case .clientDisconnect:
            phase = .idle
        case .keepAliveTimeout:
            scheduleRetry(
                after: "keep-alive timeout: the broker did not answer within the ping timeout (dead connection?)",
                slow: false,
                now: now
            )
        case .connAckTimeout:
            let seconds = session.configuration.connAckTimeout.components.seconds
            scheduleRetry(
                after:
                    "no CONNACK within broker.connect_timeout (\(seconds) s): the broker accepted TLS but did not answer CONNECT; fix: check that broker.port is an MQTT listener and the broker is not overloaded",
                slow: false,
                now: now
            )
        case .connectionRefused:
            scheduleRetry(after: lastDisconnect ?? "CONNACK refused", slow: true, now: now)
        case .protocolError:
            scheduleRetry(after: lastDisconnect ?? "MQTT protocol error", slow: false, now: now)
        case .serverDisconnect:
            scheduleRetry(after: lastDisconnect ?? "DISCONNECT from the broker", slow: false, now: now)
        }
    }

    private mutating func handle(_ event: SessionEvent) {
        switch event {
        case .connected(let sessionPresent, let connack):
            if everConnected { reconnects += 1 }
            everConnected = true
            holdsSession = true
            // Written once the first burst after CONNACK is flushed: its fsync need not delay the first PUBLISH.
            sessionFileDue = true
            log(.info, "MQTT connected", ["client_id": configuration.clientID, "session_present": "\(sessionPresent)"])
            warnAboutMaximumQoS(connack.properties.maximumQoS)
            lastFailure = nil
            requestStatus("online", now: stepTime)
            subscribeOnce()
            let connected = ServiceNotification.status("connected to \(configuration.brokerAddress)")
            output.append(.notify([connected]))
            reportedFirstAttempt = true
        case .connectionRefused(let reason, let notice):
            lastDisconnect = "CONNACK refused: \(reason)" + (notice.isEmpty ? "" : " (\(notice))")
        case .delivered(let tag):
            if tag < Self.firstOwnTag {
                markDirty()
                output.append(.acknowledge(seq: tag))
            } else if tag < Self.statusTag {
                output.append(.messageSettled(id: tag - Self.firstOwnTag, delivered: true))
            }
        case .deliveryFailed(let tag, let reason):
            if tag < Self.firstOwnTag {
                log(
                    .error,
                    "broker refused a reading; it will not be retried",
                    ["seq": "\(tag)", "reason": "\(reason)"]
                )
                markDirty()
                output.append(.reject(seq: tag))
            } else if tag < Self.statusTag {
                log(.warning, "message not delivered", ["reason": "\(reason)"])
                output.append(.messageSettled(id: tag - Self.firstOwnTag, delivered: false))
            }
        case .messageReceived(let message):
            output.append(.messageReceived(message))
        case .subscribed(_, let results):
            reportRefusedSubscriptions(configuration.subscriptions.map(\.topicFilter), results)
        case .resubscribed(let filters, let results):
            reportRefusedSubscriptions(filters, results)
        case .unsubscribed:
            break
        case .disconnectedByServer(let reason, let notice):
            if reason == .sessionTakenOver {
                lastDisconnect =
                    "session taken over: another client connected with client id '\(configuration.clientID)'"
                log(.warning, "\(lastDisconnect ?? ""); backing off instead of fighting it")
            } else {
                // A Server Reference (0x9C/0x9D) is reported, not followed: the configured broker stays the only
                // one this device trusts to send it elsewhere, and an operator decides.
                let said = notice.isEmpty ? "" : " (\(notice))"
                lastDisconnect = "DISCONNECT from the broker: \(reason)\(said)"
                log(.warning, "broker sent DISCONNECT: \(reason)\(said)")
            }
        case .protocolError(let detail):
            lastDisconnect = "MQTT protocol error: \(detail)"
            log(.error, "MQTT protocol error from broker: \(detail)")
        }
    }

    /// Asks for the configured subscriptions at the first CONNACK; later connections get them from the session,
    /// which sends them again when the broker may have lost them.
    private mutating func subscribeOnce() {
        guard !subscribed, !configuration.subscriptions.isEmpty else { return }
        do {
            let (_, actions) = try session.subscribe(configuration.subscriptions, now: stepTime)
            apply(actions)
            subscribed = true
        } catch {
            log(.error, "subscription not sent", ["reason": "\(error)"])
        }
    }

    /// A refused filter (a reason code of 0x80 or more) means the device will not hear on it: say which.
    private mutating func reportRefusedSubscriptions(_ filters: [String], _ results: [ReasonCode]) {
        for (filter, result) in zip(filters, results) where result.rawValue >= 0x80 {
            log(
                .error,
                "broker refused the subscription to \(filter): \(result); fix: check the broker's ACL for this device",
                ["topic_filter": filter]
            )
        }
    }

    /// A broker with a Maximum QoS below a sensor's QoS weakens (downgrade) or drops (refuse) that sensor's
    /// readings; say so once per connection, naming the sensors and the config key that decides.
    private mutating func warnAboutMaximumQoS(_ maximum: QoS?) {
        guard let maximum else { return }
        let affected = configuration.sensors.filter { $0.qos > maximum }.map(\.name)
        guard !affected.isEmpty else { return }
        let metadata = ["maximum_qos": "\(maximum.rawValue)", "sensors": affected.joined(separator: ",")]
        switch configuration.qosAboveMaximum {
        case .downgrade:
            log(
                .warning,
                "broker's Maximum QoS is below these sensors' QoS; their readings are sent at QoS \(maximum.rawValue) (set broker.qos_above_maximum = \"refuse\" to drop them instead)",
                metadata
            )
        case .refuse:
            log(
                .warning,
                "broker's Maximum QoS is below these sensors' QoS; their readings are refused and dropped (broker.qos_above_maximum = \"refuse\"; \"downgrade\" sends them at the lower QoS)",
                metadata
            )
        }
    }

    // MARK: Shutdown

    /// Once readings have stopped (or the drain deadline passed): wait for what is in flight, publish the
    /// offline status, DISCONNECT. Whatever is not acknowledged stays in the spool for the next start.
    private mutating func finishIfDone(now: Duration) {
        guard shuttingDown, phase != .finished, requestedReadings == nil, statusRequests == 0 else { return }
        let timedOut = drainDeadline.map { now >= $0 } ?? false
        guard readingsFinished || timedOut else { return }
        guard case .connected = phase else {
            checkpoint(now: now)
            phase = .finished
            output.append(.finished(disconnected: false))
            return
        }
        if sessionLoad > 0 && !timedOut { return }
        if !offlineStatusQueued {
            offlineStatusQueued = true
            requestStatus("offline", now: now)
            return
        }
        perform(session.disconnect(now: now))
        if case .connected = phase {
            // The session had no connection to end (it never sent CONNECT): close the transport anyway.
            handleClose(.clientDisconnect)
        }
        checkpoint(now: now)
        log(.info, "disconnected")
        phase = .finished
        output.append(.finished(disconnected: true))
    }
}
