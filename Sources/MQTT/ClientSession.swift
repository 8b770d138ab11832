/// Sans-I/O MQTT client session for a publishing device. It owns the session state (in-flight QoS 1/2
/// messages, packet identifiers, queue, keep-alive timers) and turns inputs (connection up/down, bytes,
/// publish requests, timer ticks) into ordered `SessionAction`s. Time is injected as `now`, a `Duration` since
/// an arbitrary monotonic origin, so every behaviour is testable with virtual time.
public struct ClientSession: Sendable {
    private enum ConnectionPhase: Sendable, Equatable {
        case idle
        case awaitingConnAck(since: Duration)
        case connected
    }

    private struct InFlightRecord: Sendable {
        var packetID: UInt16
        var phase: SessionSnapshot.Phase
        var message: SessionSnapshot.Message
        /// Sent (or re-sent) on the current connection; counts against the server's Receive Maximum.
        var transmitted: Bool
        /// When the message was first handed out; restores application order if the session is lost.
        var sendOrder: UInt64
        /// When PUBREC arrived; PUBRELs are (re)sent in this order [MQTT-4.6.0-4].
        var pubrecOrder: UInt64 = 0
    }

    private enum PendingRequest: Sendable {
        case subscribe([String])
        case resubscribe([String])
        case unsubscribe
    }

    /// A subscription the application asked for and has not withdrawn. It is sent again when the broker may not
    /// hold it: after Session Present=0, or when its SUBACK never arrived because the connection dropped.
    private struct StandingSubscription: Sendable {
        var subscription: Subscription
        var properties: SubscribeProperties
        /// Acknowledged (SUBACK success) on the broker's current session.
        var confirmed = false
    }

    public private(set) var configuration: Configuration

    // Connection state (reset per connection).
    private var connection: ConnectionPhase = .idle
    private var decoder: PacketDecoder
    /// Reused for the size check of every outgoing PUBLISH, so that check allocates nothing.
    private var sizeProbe: [UInt8] = []
    private var cleanStartSent = false
    private var sendWindow = Int(UInt16.max)
    private var serverMaximumPacketSize: Int?
    private var serverMaximumQoS: QoS = .exactlyOnce
    private var serverRetainAvailable = true
    /// Highest Topic Alias the server accepts on this connection (0: none) [MQTT-3.2.2-17], [MQTT-3.3.2-9].
    private var serverTopicAliasMaximum: UInt16 = 0
    /// Topic aliases established on this connection, by topic name; cleared with it [MQTT-3.3.2-7].
    private var topicAliases: [String: UInt16] = [:]
    private var effectiveKeepAlive: Duration = .zero
    private var lastSendAt: Duration = .zero
    /// When the broker last sent anything: silence in this direction also triggers a PINGREQ, so a
    /// dead link is noticed even while the client keeps publishing.
    private var lastReceiveAt: Duration = .zero
    private var pingSentAt: Duration?
    private var pendingRequests: [UInt16: PendingRequest] = [:]
    /// Standing subscriptions in the order first requested (survive connections, not the process).
    private var standing: [StandingSubscription] = []

    // Session state (survives connections).
    private var inFlight: [InFlightRecord] = []
    private var transmittedCount = 0
    private var queue = MessageQueue()
    /// How many messages at the end of `queue` `publish` already checked against this connection's limits, so
    /// `pump` does not check (and size) them a second time. Zero whenever the connection changes.
    private var checkedTail = 0
    private var incomingQoS2: Set<UInt16> = []
    private var packetIDs = PacketIDAllocator()
    /// True once this session has state the broker may share: restored from a snapshot, or an accepted CONNACK.
    /// An MQTT 5 client without it that gets Session Present=1 must close [MQTT-3.2.2-4].
    private var holdsSessionState = false
    /// Set by that close: the next CONNECT asks for a new session (Clean Start=1), as the spec suggests.
    private var startCleanNext = false
    /// Source of `sendOrder` and `pubrecOrder`.
    private var orderCounter: UInt64 = 0

    public init(configuration: Configuration) {
        self.configuration = configuration
        self.decoder = PacketDecoder(version: configuration.version)
    }

    /// Resumes from state persisted by an earlier process. Restored packet identifiers are reserved so new
    /// messages never clash with them [MQTT-2.2.1-3].
    public init(configuration: Configuration, restoring snapshot: SessionSnapshot) {
        self.init(configuration: configuration)
        if self.configuration.clientID.isEmpty { self.configuration.clientID = snapshot.clientID }
        var seen: Set<UInt16> = []
        for record in snapshot.inFlight where record.packetID != 0 && record.message.qos != .atMostOnce {
            guard seen.insert(record.packetID).inserted else { continue }  // corrupt snapshot: keep the first
            orderCounter += 1
            inFlight.append(
                InFlightRecord(
                    packetID: record.packetID,
                    phase: record.phase,
                    message: record.message,
                    transmitted: false,
                    sendOrder: orderCounter,
                    pubrecOrder: orderCounter
                )
            )
        }
        queue = MessageQueue(snapshot.queued.filter { $0.qos != .atMostOnce })
        checkedTail = 0
        incomingQoS2 = Set(snapshot.incomingQoS2PacketIDs.filter { $0 != 0 })
        packetIDs = PacketIDAllocator(next: snapshot.nextPacketID)
        for record in inFlight { packetIDs.reserve(record.packetID) }
        holdsSessionState = true
    }

    // MARK: - Observation

    /// True between an accepted CONNACK and the end of the connection.
    public var isConnected: Bool { connection == .connected }
    /// QoS 1/2 messages holding a packet identifier (sent at least once, not yet fully acknowledged).
    public var inFlightCount: Int { inFlight.count }
    /// Messages waiting for a connection or for room in the in-flight window.
    public var queuedCount: Int { queue.count }

    /// Session state to persist; QoS 0 messages are deliberately left out.
    public var persistentState: SessionSnapshot {
        SessionSnapshot(
            clientID: configuration.clientID,
            inFlight: inFlight.map {
                SessionSnapshot.InFlight(packetID: $0.packetID, phase: $0.phase, message: $0.message)
            },
            queued: queue.elements.filter { $0.qos != .atMostOnce },
            incomingQoS2PacketIDs: incomingQoS2.sorted(),
            nextPacketID: packetIDs.next
        )
    }

    /// When `tick` must next be called, or nil if no timer is needed.
    public var nextDeadline: Duration? {
        switch connection {
        case .idle:
            return nil
        case .awaitingConnAck(let since):
            return since + configuration.connAckTimeout
        case .connected:
            if let pingSentAt { return pingSentAt + configuration.pingTimeout }
            return effectiveKeepAlive > .zero ? min(lastSendAt, lastReceiveAt) + effectiveKeepAlive : nil
        }
    }

    // MARK: - Connection lifecycle

    /// A new transport connection is up: returns `.send(CONNECT bytes)`. Any previous connection is
    /// considered lost first.
    public mutating func connectionEstablished(now: Duration) -> [SessionAction] {
        var actions: [SessionAction] = []
        if connection != .idle { tearDown(into: &actions) }
        lastReceiveAt = now
        let maximumPacketSize = configuration.maximumPacketSize.map { Int($0) } ?? (VariableByteInteger.maximum + 5)
        decoder = PacketDecoder(version: configuration.version, maximumPacketSize: maximumPacketSize)
        cleanStartSent =
            configuration.cleanStart
            || (configuration.version == .v3_1_1 && configuration.clientID.isEmpty)
            || startCleanNext
        var connect = ConnectPacket(
            clientID: configuration.clientID,
            cleanStart: cleanStartSent,
            keepAlive: configuration.keepAliveSeconds,
            will: configuration.will,
            username: configuration.username,
            password: configuration.password
        )
        if configuration.version == .v5 {
            connect.properties.sessionExpiryInterval = configuration.sessionExpiry
            connect.properties.receiveMaximum = configuration.receiveMaximum
            connect.properties.maximumPacketSize = configuration.maximumPacketSize
        }
        connection = .awaitingConnAck(since: now)
        guard send(.connect(connect), now: now, into: &actions) else {
            actions.append(
                .event(.protocolError("cannot encode CONNECT (check client identifier, will and credentials)"))
            )
            actions.append(.close(.protocolError))
            tearDown(into: &actions)
            return actions
        }
        return actions
    }

    /// Transport dropped (any reason). In-flight QoS 1/2 messages stay for resend; queued QoS 0 messages are
    /// dropped and reported as `deliveryFailed(tag, .unspecifiedError)`. Calling it again is harmless.
    public mutating func connectionLost() -> [SessionAction] {
        var actions: [SessionAction] = []
        tearDown(into: &actions)
        return actions
    }

    /// Graceful end: `.send(DISCONNECT)` then `.close(.clientDisconnect)`. For MQTT 5 the reason is 0x00, which
    /// suppresses the Will, and no Session Expiry Interval is sent, so the session is kept as negotiated.
    /// - Parameter sessionExpiry: MQTT 5: a new Session Expiry Interval for the session, e.g. 0 to have the server
    ///   discard it now. Ignored when CONNECT sent none or 0, where a non-zero value would be a protocol error
    ///   (§3.14.2.2.2), and in MQTT 3.1.1.
    public mutating func disconnect(now: Duration, sessionExpiry: UInt32? = nil) -> [SessionAction] {
        guard connection != .idle else { return [] }
        var actions: [SessionAction] = []
        var packet = DisconnectPacket(reasonCode: .normalDisconnection)
        if configuration.version == .v5, let connected = configuration.sessionExpiry, connected > 0 {
            packet.properties.sessionExpiryInterval = sessionExpiry
        }
        _ = send(.disconnect(packet), now: now, into: &actions)
        actions.append(.close(.clientDisconnect))
        tearDown(into: &actions)
        return actions
    }

    /// Common end of every connection: per-connection state is reset, session state kept.
    private mutating func tearDown(into actions: inout [SessionAction]) {
        connection = .idle
        pingSentAt = nil
        serverTopicAliasMaximum = 0
        topicAliases.removeAll()
        for index in inFlight.indices { inFlight[index].transmitted = false }
        transmittedCount = 0
        for id in pendingRequests.keys { packetIDs.release(id) }
        pendingRequests.removeAll()
        checkedTail = 0
        for message in queue.removeAll(where: { $0.qos == .atMostOnce }) {
            actions.append(.event(.deliveryFailed(tag: message.tag, .unspecifiedError)))
        }
    }

    // MARK: - Publishing

    /// Queues an application message; `tag` is reported back in `delivered`/`deliveryFailed`. When connected
    /// and the in-flight window allows, the returned actions contain the PUBLISH; otherwise it waits in FIFO order
    /// and is sent on (re)connect. QoS above the server's Maximum QoS is downgraded or refused according to
    /// `configuration.qosAboveMaximum`.
    public mutating func publish(
        topic: String,
        payload: [UInt8],
        qos: QoS,
        retain: Bool,
        properties: PublishProperties = PublishProperties(),
        tag: UInt64,
        now: Duration
    ) throws(PublishError) -> [SessionAction] {
        do {
            try Topic.validateName(topic)
        } catch {
            throw PublishError(.invalidTopic, error.detail)
        }
        if !properties.subscriptionIdentifiers.isEmpty {
            throw PublishError(.invalidProperties, "a client must not send Subscription Identifiers [MQTT-3.3.4-6]")
        }
        if properties.topicAlias != nil {
            throw PublishError(
                .invalidProperties,
                "topic aliases are chosen by the session (Configuration.useTopicAliases), not by the caller"
            )
        }
        var message = SessionSnapshot.Message(
            topic: topic,
            payload: payload,
            qos: qos,
            retain: retain,
            properties: properties,
            tag: tag
        )
        if isConnected {
            message = try applyServerLimits(message)
        } else {
            // The server's limits are unknown; at least the protocol limits must hold.
            let probe = PublishPacket(
                topic: topic,
                payload: payload,
                qos: qos,
                retain: retain,
                packetID: qos == .atMostOnce ? nil : 1,
                properties: properties
            )
            do {
                _ = try PacketEncoder.encode(.publish(probe), version: configuration.version)
            } catch {
                throw PublishError(error.code == .packetTooLarge ? .packetTooLarge : .invalidProperties, error.detail)
            }
        }
        var actions: [SessionAction] = []
        if isConnected && message.qos == .atMostOnce {
            if sendPublish(message, packetID: nil, dup: false, now: now, into: &actions) {
                actions.append(.event(.delivered(tag: tag)))
            }
            return actions
        }
        queue.append(message)
        if isConnected { checkedTail += 1 }
        pump(now: now, into: &actions)
        return actions
    }

    /// Applies the limits the server announced in CONNACK [MQTT-3.2.2-11], [-14], [-15].
    private mutating func applyServerLimits(
        _ message: SessionSnapshot.Message
    ) throws(PublishError) -> SessionSnapshot.Message {
        var message = message
        if message.qos > serverMaximumQoS {
            switch configuration.qosAboveMaximum {
            case .downgrade:
                message.qos = serverMaximumQoS
            case .refuse:
                throw PublishError(
                    .qosNotSupported,
                    "QoS \(message.qos.rawValue) exceeds server Maximum QoS \(serverMaximumQoS.rawValue)"
                )
            }
        }
        if message.retain && !serverRetainAvailable {
            throw PublishError(.retainNotSupported, "server announced Retain Available = 0")
        }
        let probe = publishPacket(message, packetID: message.qos == .atMostOnce ? nil : 1, dup: false)
        let size: Int
        do {
            size = try PacketEncoder.encodedSize(of: probe, version: configuration.version, scratch: &sizeProbe)
            if sizeProbe.capacity > 64 << 10 { sizeProbe = [] }  // do not keep a rare large header's buffer
        } catch {
            throw PublishError(error.code == .packetTooLarge ? .packetTooLarge : .invalidProperties, error.detail)
        }
        if let limit = serverMaximumPacketSize, size > limit {
            throw PublishError(.packetTooLarge, "PUBLISH of \(size) bytes exceeds server Maximum Packet Size \(limit)")
        }
        return message
    }

    private func publishPacket(_ message: SessionSnapshot.Message, packetID: UInt16?, dup: Bool) -> PublishPacket {
        PublishPacket(
            topic: message.topic,
            payload: message.payload,
            qos: message.qos,
            retain: message.retain,
            dup: dup,
            packetID: packetID,
            properties: message.properties
        )
    }

    /// Sends what the in-flight window allows: first in-flight messages not yet (re)sent on this connection,
    /// in original order, then queued messages in FIFO order [MQTT-4.6.0-1], [MQTT-3.3.4-7], [MQTT-4.9.0-2].
    private mutating func pump(now: Duration, into actions: inout [SessionAction]) {
        guard isConnected else { return }
        for index in inFlight.indices where transmittedCount < inFlight.count && !inFlight[index].transmitted {
            guard transmittedCount < sendWindow else { return }
            let record = inFlight[index]
            inFlight[index].transmitted = true
            transmittedCount += 1
            switch record.phase {
            case .awaitingAcknowledgement:
                _ = sendPublish(record.message, packetID: record.packetID, dup: true, now: now, into: &actions)
            case .awaitingCompletion:
                _ = send(.pubrel(AckPacket(packetID: record.packetID)), now: now, into: &actions)
            }
        }
        while let head = queue.first {
            if head.qos != .atMostOnce && transmittedCount >= sendWindow { return }
            // The head was checked by `publish` on this connection when every queued message was.
            let checked = queue.count <= checkedTail
            _ = queue.popFirst()
            if checked { checkedTail -= 1 }
            let message: SessionSnapshot.Message
            do {
                message = checked ? head : try applyServerLimits(head)
            } catch {
                let reason: ReasonCode =
                    switch error.code {
                    case .qosNotSupported: .qosNotSupported
                    case .retainNotSupported: .retainNotSupported
                    case .packetTooLarge: .packetTooLarge
                    default: .unspecifiedError
                    }
                actions.append(.event(.deliveryFailed(tag: head.tag, reason)))
                continue
            }
            if message.qos == .atMostOnce {
                if sendPublish(message, packetID: nil, dup: false, now: now, into: &actions) {
                    actions.append(.event(.delivered(tag: message.tag)))
                }
                continue
            }
            guard let packetID = packetIDs.allocate() else {
                queue.prepend([head])
                if checked { checkedTail += 1 }
                return
            }
            orderCounter += 1
            inFlight.append(
                InFlightRecord(
                    packetID: packetID,
                    phase: .awaitingAcknowledgement,
                    message: message,
                    transmitted: true,
                    sendOrder: orderCounter
                )
            )
            transmittedCount += 1
            _ = sendPublish(message, packetID: packetID, dup: false, now: now, into: &actions)
        }
    }

    /// Sends a PUBLISH, with a Topic Alias when the server allows one: the first PUBLISH of a topic on a connection
    /// carries the name and binds the next free alias, later ones carry only the alias (empty topic name). Aliases are
    /// handed out first come, first served, 1 up to the server's maximum and never 0 [MQTT-3.3.2-8], [MQTT-3.3.2-9];
    /// topics beyond that go by name. The stored message keeps its name, so a resend on a new connection (where no
    /// alias exists yet [MQTT-3.3.2-7]) carries it again.
    private mutating func sendPublish(
        _ message: SessionSnapshot.Message,
        packetID: UInt16?,
        dup: Bool,
        now: Duration,
        into actions: inout [SessionAction]
    ) -> Bool {
        var packet = publishPacket(message, packetID: packetID, dup: dup)
        var binds: UInt16?
        if serverTopicAliasMaximum > 0 {
            if let alias = topicAliases[message.topic] {
                packet.topic = ""
                packet.properties.topicAlias = alias
            } else if topicAliases.count < Int(serverTopicAliasMaximum) {
                binds = UInt16(topicAliases.count + 1)
                packet.properties.topicAlias = binds
            }
        }
        guard send(.publish(packet), now: now, into: &actions) else { return false }
        if let binds { topicAliases[message.topic] = binds }
        return true
    }

    // MARK: - Subscriptions

    /// Sends SUBSCRIBE (with MQTT 5 options and properties); the result arrives as `.subscribed(packetID:_:)`.
    /// The subscription then stands until `unsubscribe` or a refusing SUBACK: the session sends it again when the broker
    /// lost it (Session Present=0) or its SUBACK was lost with the connection (`.resubscribed`). Standing subscriptions
    /// live in memory only, not in `persistentState`: a restarted process subscribes again itself.
    public mutating func subscribe(
        _ subscriptions: [Subscription],
        properties: SubscribeProperties = SubscribeProperties(),
        now: Duration
    ) throws(SubscribeError) -> (packetID: UInt16, actions: [SessionAction]) {
        let result = try request(now: now, kind: .subscribe(subscriptions.map(\.topicFilter))) { packetID in
            .subscribe(SubscribePacket(packetID: packetID, subscriptions: subscriptions, properties: properties))
        }
        for subscription in subscriptions {
            let entry = StandingSubscription(subscription: subscription, properties: properties)
            if let index = standing.firstIndex(where: { $0.subscription.topicFilter == subscription.topicFilter }) {
                standing[index] = entry
            } else {
                standing.append(entry)
            }
        }
        return result
    }

    /// Sends UNSUBSCRIBE; the result arrives as `.unsubscribed(packetID:_:)`.
    public mutating func unsubscribe(
        _ topicFilters: [String],
        properties: UnsubscribeProperties = UnsubscribeProperties(),
        now: Duration
    ) throws(SubscribeError) -> (packetID: UInt16, actions: [SessionAction]) {
        let result = try request(now: now, kind: .unsubscribe) { packetID in
            .unsubscribe(UnsubscribePacket(packetID: packetID, topicFilters: topicFilters, properties: properties))
        }
        standing.removeAll { topicFilters.contains($0.subscription.topicFilter) }
        return result
    }

    private mutating func request(
        now: Duration,
        kind: PendingRequest,
        _ makePacket: (UInt16) -> Packet
    ) throws(SubscribeError) -> (packetID: UInt16, actions: [SessionAction]) {
        guard isConnected else { throw SubscribeError(.notConnected, "no accepted connection") }
        guard let packetID = packetIDs.allocate() else {
            throw SubscribeError(.noPacketIdentifierAvailable, "all packet identifiers are in use")
        }
        let bytes: [UInt8]
        do {
            bytes = try PacketEncoder.encode(makePacket(packetID), version: configuration.version)
        } catch {
            packetIDs.release(packetID)
            throw SubscribeError(error.code == .packetTooLarge ? .packetTooLarge : .invalidTopicFilter, error.detail)
        }
        if let limit = serverMaximumPacketSize, bytes.count > limit {
            packetIDs.release(packetID)
            throw SubscribeError(
                .packetTooLarge,
                "request of \(bytes.count) bytes exceeds server Maximum Packet Size \(limit)"
            )
        }
        pendingRequests[packetID] = kind
        lastSendAt = now
        return (packetID, [.send(bytes)])
    }

    // MARK: - Timers

    /// Call at or after `nextDeadline`. Emits PINGREQ after Keep Alive without sending [MQTT-3.1.2-23] /
    /// [MQTT-3.1.2-20], or `.close(.keepAliveTimeout)` when PINGRESP or CONNACK is overdue.
    public mutating func tick(now: Duration) -> [SessionAction] {
        var actions: [SessionAction] = []
        switch connection {
        case .idle:
            break
        case .awaitingConnAck(let since):
            if now >= since + configuration.connAckTimeout {
                actions.append(.close(.connAckTimeout))
                tearDown(into: &actions)
            }
        case .connected:
            if let pingSentAt {
                if now >= pingSentAt + configuration.pingTimeout {
                    actions.append(.close(.keepAliveTimeout))
                    tearDown(into: &actions)
                }
            } else if effectiveKeepAlive > .zero && now >= min(lastSendAt, lastReceiveAt) + effectiveKeepAlive {
                if send(.pingreq, now: now, into: &actions) { pingSentAt = now }
            }
        }
        return actions
    }

    // MARK: - Input

    /// Bytes arrived from the broker. Decoding stops at the first action that closes the connection.
    public mutating func received(_ bytes: [UInt8], now: Duration) -> [SessionAction] {
        guard connection != .idle else { return [] }
        lastReceiveAt = now
        var actions: [SessionAction] = []
        decoder.append(bytes)
        while connection != .idle {
            let packet: Packet
            do {
                guard let next = try decoder.next() else { break }
                packet = next
            } catch {
                let reason: ReasonCode =
                    switch error.code {
                    case .packetTooLarge: .packetTooLarge
                    case .invalidProperty, .protocolViolation, .unknownPacketType, .unsupportedInVersion: .protocolError
                    default: .malformedPacket
                    }
                fail(reason, error.description, now: now, into: &actions)
                break
            }
            handle(packet, now: now, into: &actions)
        }
        return actions
    }

    private mutating func handle(_ packet: Packet, now: Duration, into actions: inout [SessionAction]) {
        if case .awaitingConnAck = connection {
            guard case .connack(let connack) = packet else {
                fail(.protocolError, "expected CONNACK, got \(packet.type)", now: now, into: &actions)
                return
            }
            handleConnAck(connack, now: now, into: &actions)
            return
        }
        switch packet {
        case .connack:
            fail(.protocolError, "second CONNACK on one connection", now: now, into: &actions)
        case .publish(let publish):
            handleIncomingPublish(publish, now: now, into: &actions)
        case .puback(let ack):
            guard
                let index = inFlight.firstIndex(where: {
                    $0.packetID == ack.packetID && $0.message.qos == .atLeastOnce
                        && $0.phase == .awaitingAcknowledgement
                })
            else { return }  // Unknown identifier: nothing outstanding, nothing to do.
            complete(at: index, reason: ack.reasonCode, into: &actions)
            pump(now: now, into: &actions)
        case .pubrec(let ack):
            guard
                let index = inFlight.firstIndex(where: { $0.packetID == ack.packetID && $0.message.qos == .exactlyOnce }
                )
            else {
                if !ack.reasonCode.isFailure {
                    let reason: ReasonCode = configuration.version == .v5 ? .packetIdentifierNotFound : .success
                    _ = send(.pubrel(AckPacket(packetID: ack.packetID, reasonCode: reason)), now: now, into: &actions)
                }
                return
            }
            if ack.reasonCode.isFailure {
                // [MQTT-4.4.0-2]: acknowledged, identifier free, never retransmitted.
                complete(at: index, reason: ack.reasonCode, into: &actions)
                pump(now: now, into: &actions)
                return
            }
            // PUBRELs must go out in PUBREC order, also when resent [MQTT-4.6.0-4].
            if inFlight[index].phase == .awaitingAcknowledgement {
                orderCounter += 1
                inFlight[index].phase = .awaitingCompletion
                inFlight[index].pubrecOrder = orderCounter
                orderPubrels()
            }
            _ = send(.pubrel(AckPacket(packetID: ack.packetID)), now: now, into: &actions)
        case .pubcomp(let ack):
            guard
                let index = inFlight.firstIndex(where: {
                    $0.packetID == ack.packetID && $0.message.qos == .exactlyOnce && $0.phase == .awaitingCompletion
                })
            else { return }
            complete(at: index, reason: ack.reasonCode, into: &actions)
            pump(now: now, into: &actions)
        case .pubrel(let ack):
            let known = incomingQoS2.remove(ack.packetID) != nil
            let reason: ReasonCode = known || configuration.version == .v3_1_1 ? .success : .packetIdentifierNotFound
            _ = send(.pubcomp(AckPacket(packetID: ack.packetID, reasonCode: reason)), now: now, into: &actions)
        case .suback(let suback):
            let filters: [String]
            let resubscription: Bool
            switch pendingRequests[suback.packetID] {
            case .subscribe(let requested): (filters, resubscription) = (requested, false)
            case .resubscribe(let requested): (filters, resubscription) = (requested, true)
            case .unsubscribe, nil: return
            }
            pendingRequests[suback.packetID] = nil
            packetIDs.release(suback.packetID)
            for (filter, reason) in zip(filters, suback.reasonCodes) {
                guard let index = standing.firstIndex(where: { $0.subscription.topicFilter == filter }) else {
                    continue
                }
                if reason.isFailure {
                    standing.remove(at: index)  // refused: asking again would only be refused again
                } else {
                    standing[index].confirmed = true
                }
            }
            actions.append(
                .event(
                    resubscription
                        ? .resubscribed(filters, suback.reasonCodes)
                        : .subscribed(packetID: suback.packetID, suback.reasonCodes)
                )
            )
        case .unsuback(let unsuback):
            guard case .unsubscribe = pendingRequests[unsuback.packetID] else { return }
            pendingRequests[unsuback.packetID] = nil
            packetIDs.release(unsuback.packetID)
            actions.append(.event(.unsubscribed(packetID: unsuback.packetID, unsuback.reasonCodes)))
        case .pingresp:
            pingSentAt = nil
        case .disconnect(let disconnect):
            let notice = ServerNotice(
                reasonString: disconnect.properties.reasonString,
                serverReference: disconnect.properties.serverReference
            )
            actions.append(.event(.disconnectedByServer(disconnect.reasonCode, notice)))
            if disconnect.properties.sessionExpiryInterval != nil {
                // [MQTT-3.14.2-2]: only a client may send it. The connection ends either way; nothing is sent back.
                actions.append(
                    .event(.protocolError("server sent a Session Expiry Interval in DISCONNECT [MQTT-3.14.2-2]"))
                )
                actions.append(.close(.protocolError))
                tearDown(into: &actions)
                return
            }
            actions.append(.close(.serverDisconnect))
            tearDown(into: &actions)
        case .auth:
            fail(
                .protocolError,
                "AUTH received but enhanced authentication was not requested [MQTT-4.12.0-7]",
                now: now,
                into: &actions
            )
        case .connect, .subscribe, .unsubscribe, .pingreq:
            fail(.protocolError, "server sent client-only packet \(packet.type)", now: now, into: &actions)
        }
    }

    /// Sorts the records awaiting PUBCOMP by PUBREC arrival within the positions they occupy, so a resend emits
    /// PUBRELs in PUBREC order [MQTT-4.6.0-4] while PUBLISHes keep their original order and places [MQTT-4.6.0-1].
    private mutating func orderPubrels() {
        let positions = inFlight.indices.filter { inFlight[$0].phase == .awaitingCompletion }
        let sorted = positions.map { inFlight[$0] }.sorted { $0.pubrecOrder < $1.pubrecOrder }
        for (position, record) in zip(positions, sorted) { inFlight[position] = record }
    }

    /// Ends a QoS 1/2 exchange: the identifier is free again and the caller learns the outcome.
    private mutating func complete(at index: Int, reason: ReasonCode, into actions: inout [SessionAction]) {
        let record = inFlight.remove(at: index)
        if record.transmitted { transmittedCount -= 1 }
        packetIDs.release(record.packetID)
        actions.append(
            .event(
                reason.isFailure
                    ? .deliveryFailed(tag: record.message.tag, reason)
                    : .delivered(tag: record.message.tag)
            )
        )
    }

    private mutating func handleConnAck(_ connack: ConnAckPacket, now: Duration, into actions: inout [SessionAction]) {
        if connack.reasonCode.isFailure {
            let notice = ServerNotice(
                reasonString: connack.properties.reasonString,
                serverReference: connack.properties.serverReference
            )
            actions.append(.event(.connectionRefused(connack.reasonCode, notice)))
            actions.append(.close(.connectionRefused))
            tearDown(into: &actions)
            return
        }
        if connack.sessionPresent && cleanStartSent {
            // [MQTT-3.2.2-1] (3.1.1) / [MQTT-3.2.2-2] (5): Clean Start=1 requires Session Present=0; the session we
            // hold cannot match what the server claims ([MQTT-3.2.2-4]).
            actions.append(.event(.protocolError("Session Present=1 in reply to Clean Start=1")))
            actions.append(.close(.protocolError))
            tearDown(into: &actions)
            return
        }
        if connack.sessionPresent && configuration.version == .v5 && !holdsSessionState {
            // [MQTT-3.2.2-4]: the server resumed a session this client knows nothing about (e.g. an earlier process
            // whose state was not persisted): its packet identifiers and QoS 2 phases are unknown, so close and
            // start a new session. Clean Start=1 is not sent up front because Mosquitto 2.0 does not persist a
            // session opened with Clean Start=1 across its own restart.
            startCleanNext = true
            actions.append(
                .event(
                    .protocolError(
                        "Session Present=1 but this client holds no session state [MQTT-3.2.2-4]; reconnecting with Clean Start=1"
                    )
                )
            )
            actions.append(.close(.protocolError))
            tearDown(into: &actions)
            return
        }
        startCleanNext = false
        let properties = connack.properties
        // [MQTT-3.3.4-7]: never more unacknowledged QoS 1/2 PUBLISHes than the server's Receive Maximum, nor our own cap.
        sendWindow = Int(min(properties.receiveMaximum ?? UInt16.max, configuration.maximumInFlight ?? UInt16.max))
        serverMaximumPacketSize = properties.maximumPacketSize.map { Int($0) }
        serverMaximumQoS = properties.maximumQoS ?? .exactlyOnce
        serverRetainAvailable = properties.retainAvailable ?? true
        serverTopicAliasMaximum =
            configuration.version == .v5 && configuration.useTopicAliases
            ? properties.topicAliasMaximum ?? 0 : 0
        topicAliases.removeAll()
        effectiveKeepAlive = .seconds(Int(properties.serverKeepAlive ?? configuration.keepAliveSeconds))
        if let assigned = properties.assignedClientIdentifier { configuration.clientID = assigned }
        connection = .connected
        holdsSessionState = true
        pingSentAt = nil
        transmittedCount = 0
        checkedTail = 0
        actions.append(.event(.connected(sessionPresent: connack.sessionPresent, connack)))
        if !connack.sessionPresent {
            // The server has no session: ours is void [MQTT-3.2.2-5], [MQTT-3.1.2-6]. Unfinished outgoing messages
            // become new messages (fresh identifiers, DUP=0) ahead of the queue.
            queue.prepend(inFlight.sorted { $0.sendOrder < $1.sendOrder }.map(\.message))
            inFlight.removeAll()
            incomingQoS2.removeAll()
            packetIDs.releaseAll()
            for index in standing.indices { standing[index].confirmed = false }
        }
        resubscribe(now: now, into: &actions)
        // With Session Present=1, every in-flight message is now untransmitted on this connection and `pump`
        // resends PUBLISH (DUP=1, same id) or PUBREL in original order before any queued message [MQTT-4.4.0-1].
        pump(now: now, into: &actions)
    }

    /// Sends SUBSCRIBE again for every standing subscription the broker may not hold (its session is new, or the
    /// SUBACK was lost with the connection), one packet per set of properties, in the order first requested.
    /// Subscribing again to a filter the broker still has only replaces it [MQTT-3.8.4-3].
    private mutating func resubscribe(now: Duration, into actions: inout [SessionAction]) {
        var groups: [(properties: SubscribeProperties, subscriptions: [Subscription])] = []
        for entry in standing where !entry.confirmed {
            if let index = groups.firstIndex(where: { $0.properties == entry.properties }) {
                groups[index].subscriptions.append(entry.subscription)
            } else {
                groups.append((entry.properties, [entry.subscription]))
            }
        }
        for group in groups {
            guard let packetID = packetIDs.allocate() else { return }
            let packet = Packet.subscribe(
                SubscribePacket(
                    packetID: packetID,
                    subscriptions: group.subscriptions,
                    properties: group.properties
                )
            )
            guard send(packet, now: now, into: &actions) else {
                packetIDs.release(packetID)
                continue
            }
            pendingRequests[packetID] = .resubscribe(group.subscriptions.map(\.topicFilter))
        }
    }

    private mutating func handleIncomingPublish(
        _ publish: PublishPacket,
        now: Duration,
        into actions: inout [SessionAction]
    ) {
        if publish.properties.topicAlias != nil {
            // We announce no Topic Alias Maximum, so any alias is invalid [MQTT-3.3.2-10].
            fail(.topicAliasInvalid, "server used a topic alias although none was allowed", now: now, into: &actions)
            return
        }
        switch publish.qos {
        case .atMostOnce:
            actions.append(.event(.messageReceived(publish)))
        case .atLeastOnce:
            actions.append(.event(.messageReceived(publish)))
            _ = send(.puback(AckPacket(packetID: publish.packetID ?? 0)), now: now, into: &actions)
        case .exactlyOnce:
            let packetID = publish.packetID ?? 0
            if !incomingQoS2.contains(packetID) {
                if configuration.version == .v5, let maximum = configuration.receiveMaximum,
                    incomingQoS2.count >= Int(maximum)
                {
                    fail(
                        .receiveMaximumExceeded,
                        "server exceeded our Receive Maximum \(maximum)",
                        now: now,
                        into: &actions
                    )
                    return
                }
                incomingQoS2.insert(packetID)
                actions.append(.event(.messageReceived(publish)))
            }
            _ = send(.pubrec(AckPacket(packetID: packetID)), now: now, into: &actions)
        }
    }

    /// Protocol violation by the server: tell it why (MQTT 5, once connected), report, close [MQTT-4.8.0-1].
    private mutating func fail(
        _ reason: ReasonCode,
        _ message: String,
        now: Duration,
        into actions: inout [SessionAction]
    ) {
        if configuration.version == .v5 && connection == .connected {
            _ = send(.disconnect(DisconnectPacket(reasonCode: reason)), now: now, into: &actions)
        }
        actions.append(.event(.protocolError(message)))
        actions.append(.close(.protocolError))
        tearDown(into: &actions)
    }

    /// Encodes and emits a packet; false if it cannot be encoded (nothing is emitted then).
    private mutating func send(_ packet: Packet, now: Duration, into actions: inout [SessionAction]) -> Bool {
        guard let bytes = try? PacketEncoder.encode(packet, version: configuration.version) else { return false }
        actions.append(.send(bytes))
        lastSendAt = now
        return true
    }
}
