import DurableSpool
import MQTT
import Publisher
import Testing

/// The publisher's decisions in virtual time: no socket, no spool file, no clock.
@Suite("Publisher state machine")
struct PublisherMachineTests {
    // MARK: Back-off

    @Test("reconnect delays are full jitter: uniform in [0, min(max, initial·2ⁿ)], and they vary")
    func backoffWithJitterBounds() {
        var rig = PublisherRig(
            configuration: PublisherRig.configuration(backoffInitial: .seconds(1), backoffMaximum: .seconds(20))
        )
        rig.input { $0.start(now: $1) }
        for _ in 0..<12 {
            rig.input { $0.connectionFailed(reason: "TCP: refused", isTrustFailure: false, now: $1) }
            let token = rig.lastRetryToken!
            rig.input { $0.retryTimerFired(token: token, now: $1) }
        }
        let delays = rig.retryDelays
        #expect(delays.count == 12)
        for (attempt, delay) in delays.enumerated() {
            let ceiling = min(Duration.seconds(20), .seconds(1) * (1 << attempt))
            #expect(delay >= .zero && delay < ceiling, "attempt \(attempt): \(delay) outside [0, \(ceiling))")
        }
        #expect(Set(delays).count > 6, "jitter should spread the delays: \(delays)")
        // A repeated failure is logged once, not once per attempt.
        #expect(rig.logLines.filter { $0 == "connection failed: TCP: refused" }.count == 1)
    }

    @Test("a connection that lasted backoff.stable_after starts the back-off over")
    func stableConnectionResetsBackoff() {
        var rig = PublisherRig(
            configuration: PublisherRig.configuration(backoffInitial: .seconds(1), stableAfter: .seconds(60))
        )
        rig.input { $0.start(now: $1) }
        for _ in 0..<6 {
            rig.input { $0.connectionFailed(reason: "TCP: refused", isTrustFailure: false, now: $1) }
            let token = rig.lastRetryToken!
            rig.input { $0.retryTimerFired(token: token, now: $1) }
        }
        rig.input { $0.connectionEstablished(now: $1) }
        rig.acceptConnection()
        rig.advance(to: .seconds(61))
        rig.input { $0.connectionClosed(error: "reset by peer", isTrustFailure: false, now: $1) }
        #expect(rig.retryDelays.last! < .seconds(1), "after a stable connection the first ceiling applies again")
    }

    @Test("trust failures take the slow path: a minute's ceiling first, never below the normal one")
    func trustFailuresBackOffSlowly() {
        var rig = PublisherRig(
            configuration: PublisherRig.configuration(backoffInitial: .seconds(1), backoffMaximum: .seconds(300)),
            seed: 99
        )
        rig.input { $0.start(now: $1) }
        var ceilings: [Duration] = []
        for attempt in 0..<4 {
            rig.input {
                $0.connectionFailed(reason: "TLS: certificate verify failed", isTrustFailure: true, now: $1)
            }
            ceilings.append(.seconds(60) * (1 << attempt))
            let token = rig.lastRetryToken!
            rig.input { $0.retryTimerFired(token: token, now: $1) }
        }
        for (delay, ceiling) in zip(rig.retryDelays, ceilings) {
            #expect(delay < ceiling)
        }
        #expect(rig.retryDelays.contains { $0 >= .seconds(1) }, "slow delays are drawn from minutes, not seconds")
        // CONNACK "not authorized" is a trust failure too.
        var refused = PublisherRig()
        refused.startAndConnect()
        refused.brokerSends(.connack(ConnAckPacket(sessionPresent: false, reasonCode: .notAuthorized)))
        #expect(refused.actions.contains(.closeConnection))
        #expect(refused.logLines.contains { $0.hasPrefix("connection failed: CONNACK refused") })
        #expect(refused.retryDelays.count == 1)
        let slowBackoff = Backoff(base: .seconds(60), cap: .seconds(900))
        #expect(refused.retryDelays[0] < slowBackoff.currentCeiling)
    }

    @Test("a timer from an earlier retry does not connect twice")
    func staleRetryTimerIsIgnored() {
        var rig = PublisherRig()
        rig.input { $0.start(now: $1) }
        rig.input { $0.connectionFailed(reason: "refused", isTrustFailure: false, now: $1) }
        let first = rig.lastRetryToken!
        rig.input { $0.retryTimerFired(token: first, now: $1) }
        rig.input { $0.connectionFailed(reason: "refused", isTrustFailure: false, now: $1) }
        let connects = rig.actions.filter { $0 == .connect }.count
        #expect(rig.input { $0.retryTimerFired(token: first, now: $1) }.isEmpty)
        #expect(rig.actions.filter { $0 == .connect }.count == connects)
    }

    // MARK: Takeover

    @Test("two closes in a row soon after CONNACK name the client-id takeover; an unreachable broker resets it")
    func takeoverDetection() {
        var rig = PublisherRig()
        rig.startAndConnect()
        rig.acceptConnection()
        rig.advance(to: .seconds(2))
        rig.input { $0.connectionClosed(error: nil, isTrustFailure: false, now: $1) }
        #expect(rig.logLines.last == "connection failed: connection closed by the broker")
        reconnect(&rig, at: .seconds(5))
        rig.advance(to: .seconds(7))
        rig.input { $0.connectionClosed(error: nil, isTrustFailure: false, now: $1) }
        #expect(rig.logLines.last?.contains("2 times in a row: another client may be using client id 'dev-1'") == true)
        // The broker is then unreachable (restarting): the pattern starts over.
        let token = rig.lastRetryToken!
        rig.input { $0.retryTimerFired(token: token, now: $1) }
        rig.input { $0.connectionFailed(reason: "TCP: refused", isTrustFailure: false, now: $1) }
        reconnect(&rig, at: .seconds(30))
        rig.advance(to: .seconds(31))
        rig.input { $0.connectionClosed(error: nil, isTrustFailure: false, now: $1) }
        #expect(rig.logLines.last == "connection failed: connection closed by the broker")
    }

    @Test("a close long after CONNACK, or with an error, is not the takeover pattern")
    func lateOrErroneousClosesAreNotTakeovers() {
        var rig = PublisherRig()
        rig.startAndConnect()
        rig.acceptConnection()
        rig.advance(to: .seconds(1))
        rig.input { $0.connectionClosed(error: "reset", isTrustFailure: false, now: $1) }
        reconnect(&rig, at: .seconds(3))
        rig.advance(to: .seconds(4))
        rig.input { $0.connectionClosed(error: nil, isTrustFailure: false, now: $1) }
        reconnect(&rig, at: .seconds(20))
        rig.advance(to: .seconds(45))
        rig.input { $0.connectionClosed(error: nil, isTrustFailure: false, now: $1) }
        #expect(!rig.logLines.contains { $0.contains("another client") })
    }

    // MARK: Feeding the session

    @Test("the session holds at most the window; each PUBACK makes room that is refilled from the spool")
    func sessionWindowRefill() {
        var rig = PublisherRig(configuration: PublisherRig.configuration(sessionWindow: 64))
        rig.append(1000)
        rig.startAndConnect()
        #expect(rig.unsent.count == 1000 - 64, "the first window is taken before CONNACK")
        rig.acceptConnection()
        var rounds = 0
        while rig.acknowledged.count < 1000 && rounds < 1000 {
            rig.acknowledgeAll()
            rounds += 1
        }
        #expect(rig.acknowledged == Array(1...1000))
        #expect(rig.peakSessionLoad <= 64 + 1, "window of readings, plus the status message")
        #expect(rig.publishes.filter { $0.topic.hasSuffix("/door") }.map { $0.payload }.count == 1000)
    }

    @Test("20 000 QoS 0 readings drain round by round: one window and one flush per round, no recursion")
    func qos0BacklogDrainsRoundByRound() {
        var rig = PublisherRig()
        rig.startAndConnect()
        rig.acceptConnection()
        rig.acknowledgeAll()  // the status message
        let flushesBefore = rig.flushes
        rig.append(20_000, qos: .atMostOnce)
        var step = rig.input { $0.readingsAvailable(now: $1) }
        var rounds = 1
        var largestRound = 0
        while step.contains(.resumeLater) && rounds < 1000 {
            // Each round: at most one window written, every reading's bytes before its acknowledgement, one flush.
            var written = 0
            var acknowledged = 0
            for action in step {
                switch action {
                case .write: written += 1
                case .acknowledge:
                    acknowledged += 1
                    #expect(acknowledged <= written)
                default: break
                }
            }
            largestRound = max(largestRound, written)
            #expect(step.last == .flush || step.last == .resumeLater)
            step = rig.input { $0.resume(now: $1) }
            rounds += 1
        }
        #expect(rig.acknowledged.count == 20_000)
        #expect(rig.unsent.isEmpty)
        #expect(largestRound <= 256)
        #expect(rig.flushes - flushesBefore == rounds)
    }

    @Test("no readings are taken while the connection's send buffer is full; they resume when it drains")
    func writabilityGatesTheSpool() {
        var rig = PublisherRig()
        rig.startAndConnect()
        rig.acceptConnection()
        rig.acknowledgeAll()
        rig.input { $0.writabilityChanged(false, now: $1) }
        rig.append(10, qos: .atMostOnce)
        rig.input { $0.readingsAvailable(now: $1) }
        #expect(rig.unsent.count == 10)
        rig.input { $0.writabilityChanged(true, now: $1) }
        #expect(rig.unsent.isEmpty && rig.acknowledged == Array(1...10))
    }

    @Test("a resumed session's resends leave before anything new, then the readings in seq order")
    func resendsBeforeNewMessages() {
        let restored = SessionSnapshot(
            clientID: "dev-1",
            inFlight: [
                .init(
                    packetID: 7,
                    phase: .awaitingAcknowledgement,
                    message: .init(
                        topic: "devices/dev-1/sensors/door",
                        payload: [1],
                        qos: .atLeastOnce,
                        retain: false,
                        tag: 3
                    )
                )
            ],
            incomingQoS2PacketIDs: [],
            nextPacketID: 8
        )
        var rig = PublisherRig(restoring: restored)
        rig.nextSeq = 4
        rig.append(2)
        rig.startAndConnect()
        rig.acceptConnection(sessionPresent: true)
        let publishes = rig.publishes
        #expect(publishes.first?.packetID == 7 && publishes.first?.dup == true)
        let readings = publishes.dropFirst().filter { $0.topic.hasSuffix("/door") }.map(\.payload)
        #expect(readings == [Array("{\"seq\":4}".utf8), Array("{\"seq\":5}".utf8)])
        #expect(publishes.contains { $0.topic == "devices/dev-1/status" && !$0.dup })
    }

    @Test("the first PUBLISH of a topic binds its alias before any PUBLISH uses it")
    func topicAliasBoundBeforeUse() {
        var rig = PublisherRig()
        rig.startAndConnect()
        rig.append(5)
        rig.acceptConnection(properties: ConnAckProperties(topicAliasMaximum: 10))
        rig.acknowledgeAll()
        rig.append(5)
        rig.input { $0.readingsAvailable(now: $1) }
        var bound: Set<UInt16> = []
        for publish in rig.publishes {
            guard let alias = publish.properties.topicAlias else { continue }
            if publish.topic.isEmpty {
                #expect(bound.contains(alias), "alias \(alias) used before it was bound")
            } else {
                bound.insert(alias)
            }
        }
        #expect(!bound.isEmpty)
    }

    // MARK: Cadence

    @Test("status at CONNACK, then every status.interval while connected, never while disconnected")
    func statusCadence() {
        var rig = PublisherRig(configuration: PublisherRig.configuration(statusInterval: .seconds(60)))
        rig.startAndConnect()
        rig.acceptConnection()
        #expect(rig.statusStates == ["online"])
        for second in 1...150 {
            rig.advance(to: .seconds(second))
            rig.input { $0.tick(now: $1) }
            rig.acknowledgeAll()
        }
        #expect(rig.statusStates == ["online", "online", "online"])
        rig.input { $0.connectionClosed(error: "reset", isTrustFailure: false, now: $1) }
        for second in 151...400 {
            rig.advance(to: .seconds(second))
            rig.input { $0.tick(now: $1) }
        }
        #expect(rig.statusStates.count == 3)
    }

    @Test("a status asked for is published at once while connected, and not while disconnected")
    func statusOnRequest() {
        var rig = PublisherRig(configuration: PublisherRig.configuration(statusInterval: .seconds(60)))
        rig.input { $0.statusRequested(now: $1) }
        #expect(rig.statusStates.isEmpty, "not connected yet")
        rig.startAndConnect()
        rig.acceptConnection()
        rig.advance(to: .seconds(5))
        rig.input { $0.statusRequested(now: $1) }
        rig.acknowledgeAll()
        #expect(rig.statusStates == ["online", "online"])
        rig.input { $0.connectionClosed(error: "reset", isTrustFailure: false, now: $1) }
        rig.input { $0.statusRequested(now: $1) }
        #expect(rig.statusStates.count == 2)
    }

    @Test("a watchdog ping every watchdog interval, from the publisher's own ticks")
    func watchdogInterval() {
        var rig = PublisherRig(configuration: PublisherRig.configuration(watchdogInterval: .seconds(1)))
        rig.input { $0.start(now: $1) }
        for step in 1...40 {
            rig.advance(to: .milliseconds(250 * step))
            rig.input { $0.tick(now: $1) }
        }
        let pings = rig.actions.filter { $0 == .notify([.watchdog]) }.count
        #expect(pings == 10)
    }

    @Test("a checkpoint follows what needs one within the interval; the session file only once the session is held")
    func checkpointCadence() {
        var rig = PublisherRig(configuration: PublisherRig.configuration(checkpointInterval: .milliseconds(500)))
        rig.input { $0.start(now: $1) }
        rig.advance(to: .seconds(2))
        rig.input { $0.tick(now: $1) }
        #expect(!rig.actions.contains(.checkpointSpool), "nothing to make durable: no checkpoint")
        rig.advance(to: .milliseconds(2100))
        rig.append(1)
        rig.input { $0.readingsAvailable(now: $1) }
        #expect(rig.machine.nextDeadline == .milliseconds(2600))
        rig.advance(to: .milliseconds(2500))
        rig.input { $0.tick(now: $1) }
        #expect(!rig.actions.contains(.checkpointSpool))
        rig.advance(to: .milliseconds(2600))
        rig.input { $0.tick(now: $1) }
        #expect(rig.actions.filter { $0 == .checkpointSpool }.count == 1)
        #expect(!rig.actions.contains { if case .saveSession = $0 { true } else { false } })
        rig.input { $0.connectionEstablished(now: $1) }
        rig.acceptConnection()
        #expect(rig.actions.contains { if case .saveSession = $0 { true } else { false } })
    }

    @Test("an idle connection wakes only for keep-alive, the status refresh and the watchdog")
    func idleDeadlines() {
        var rig = PublisherRig(
            configuration: PublisherRig.configuration(statusInterval: .seconds(60), watchdogInterval: .seconds(45))
        )
        rig.startAndConnect()
        rig.acceptConnection()
        rig.acknowledgeAll()
        rig.advance(to: .seconds(1))
        rig.input { $0.tick(now: $1) }  // the checkpoint of the status message's acknowledgement
        var wakes: [Duration] = []
        while let deadline = rig.machine.nextDeadline, deadline <= .seconds(600) {
            wakes.append(deadline)
            rig.advance(to: deadline)
            rig.input { $0.tick(now: $1) }
            rig.acknowledgeAll()
        }
        // Keep-alive 30 s (PINGREQ), status every 60 s, watchdog every 45 s: well under 0.1 wake-ups a second,
        // never a periodic tick.
        // 10 PINGREQs (30 s after each status PUBLISH), 10 status refreshes, 13 watchdog pings, some together.
        #expect(wakes.count <= 33, "\(wakes.count) wake-ups in 600 s: \(wakes)")
        #expect(rig.statusStates.count == 1 + 10)
        #expect(rig.actions.filter { $0 == .notify([.watchdog]) }.count == 13)
    }

    @Test("the service status says the first attempt is over once, whatever its outcome; READY is not the publisher's")
    func readyOnce() {
        var rig = PublisherRig()
        rig.input { $0.start(now: $1) }
        rig.input { $0.connectionFailed(reason: "refused", isTrustFailure: false, now: $1) }
        let token = rig.lastRetryToken!
        rig.input { $0.retryTimerFired(token: token, now: $1) }
        rig.input { $0.connectionEstablished(now: $1) }
        rig.acceptConnection()
        let waiting = rig.actions.filter { $0 == .notify([.status("waiting for the broker")]) }
        #expect(waiting.count == 1)
        #expect(rig.actions.contains(.notify([.status("connected to broker.test:8883")])))
    }

    // MARK: Failures the broker causes

    @Test("a broker that never answers CONNECT is named as such, not as a keep-alive timeout")
    func unansweredConnect() {
        var configuration = ClientSession.Configuration(clientID: "dev-1", version: .v5, keepAlive: .seconds(30))
        configuration.pingTimeout = .seconds(15)
        configuration.connAckTimeout = .seconds(10)
        var rig = PublisherRig(session: configuration)
        rig.startAndConnect()
        rig.advance(to: .seconds(9))
        rig.input { $0.tick(now: $1) }
        #expect(!rig.actions.contains(.closeConnection))
        rig.advance(to: .seconds(10))
        rig.input { $0.tick(now: $1) }
        #expect(rig.actions.contains(.closeConnection))
        #expect(
            rig.logLines.last?.hasPrefix("connection failed: no CONNACK within broker.connect_timeout (10 s)") == true
        )
    }

    @Test("a PUBACK with a failure reason rejects the reading for good")
    func refusedReadingIsRejected() {
        var rig = PublisherRig()
        rig.append(1)
        rig.startAndConnect()
        rig.acceptConnection()
        let reading = rig.publishes.first { $0.topic.hasSuffix("/door") }!
        rig.brokerSends(.puback(AckPacket(packetID: reading.packetID!, reasonCode: .notAuthorized)))
        #expect(rig.rejected == [1])
        #expect(rig.acknowledged.isEmpty)
    }

    @Test("a broker's Maximum QoS below a sensor's is reported with the sensor's name")
    func maximumQoSWarning() {
        var rig = PublisherRig(
            configuration: PublisherRig.configuration(sensors: [.init(name: "door", qos: .exactlyOnce)])
        )
        rig.startAndConnect()
        rig.acceptConnection(properties: ConnAckProperties(maximumQoS: .atLeastOnce))
        let warning = rig.actions.compactMap { if case .log(let entry) = $0 { entry } else { nil } }
            .first { $0.message.hasPrefix("broker's Maximum QoS") }
        #expect(warning?.level == .warning)
        #expect(warning?.metadata["sensors"] == "door")
    }

    // MARK: Shutdown

    @Test("SIGTERM drains: acknowledgements first, then the offline status, then DISCONNECT")
    func gracefulDrain() {
        var rig = PublisherRig()
        rig.append(3)
        rig.startAndConnect()
        rig.acceptConnection()
        rig.input { $0.shutdownRequested(now: $1) }
        rig.input { $0.readingsFinished(now: $1) }
        #expect(rig.statusStates == ["online"], "offline waits for the readings in flight")
        rig.acknowledgeAll()
        #expect(rig.statusStates == ["online", "offline"])
        #expect(!rig.machine.isFinished)
        rig.acknowledgeAll()
        #expect(rig.machine.isFinished)
        guard case .disconnect = rig.connections.last?.last else {
            Issue.record("DISCONNECT is not the last packet: \(String(describing: rig.connections.last?.last))")
            return
        }
        let tail = rig.actions.suffix(5)
        #expect(tail.contains(.closeConnection) && tail.last == .finished(disconnected: true))
        #expect(rig.acknowledged == [1, 2, 3])
    }

    @Test("SIGTERM with readings never acknowledged gives up at the drain deadline")
    func drainDeadline() {
        var rig = PublisherRig()
        rig.append(3)
        rig.startAndConnect()
        rig.acceptConnection()
        rig.advance(to: .seconds(10))
        rig.input { $0.shutdownRequested(now: $1) }
        rig.input { $0.readingsFinished(now: $1) }
        for tenth in 1...49 {
            rig.advance(to: .seconds(10) + .milliseconds(100 * tenth))
            rig.input { $0.tick(now: $1) }
        }
        #expect(!rig.machine.isFinished && rig.statusStates == ["online"])
        rig.advance(to: .seconds(15))
        rig.input { $0.tick(now: $1) }
        #expect(rig.statusStates == ["online", "offline"])
        rig.advance(to: .seconds(15) + .milliseconds(100))
        rig.input { $0.tick(now: $1) }
        #expect(rig.machine.isFinished)
        #expect(rig.acknowledged.isEmpty, "unacknowledged readings stay in the spool")
    }

    @Test("SIGTERM while disconnected stops at once, without a retry")
    func shutdownWhileDisconnected() {
        var rig = PublisherRig()
        rig.input { $0.start(now: $1) }
        rig.input { $0.connectionFailed(reason: "refused", isTrustFailure: false, now: $1) }
        let token = rig.lastRetryToken!
        rig.input { $0.shutdownRequested(now: $1) }
        rig.input { $0.readingsFinished(now: $1) }
        #expect(rig.machine.isFinished)
        #expect(rig.actions.last == .finished(disconnected: false))
        #expect(rig.input { $0.retryTimerFired(token: token, now: $1) }.isEmpty)
    }

    // MARK: Helpers

    private func reconnect(_ rig: inout PublisherRig, at time: Duration) {
        rig.advance(to: time)
        let token = rig.lastRetryToken!
        rig.input { $0.retryTimerFired(token: token, now: $1) }
        rig.input { $0.connectionEstablished(now: $1) }
        rig.acceptConnection()
    }
}

@Suite("Publisher state machine: dead links")
struct PublisherDeadLinkTests {
    @Test("an unanswered PINGREQ ends the connection as a keep-alive timeout and a retry follows")
    func keepAliveTimeout() {
        var rig = PublisherRig()
        rig.append(3)
        rig.startAndConnect()
        rig.acceptConnection()
        var second = 0
        while !rig.actions.contains(.closeConnection) && second < 120 {
            second += 1
            rig.advance(to: .seconds(second))
            rig.input { $0.tick(now: $1) }
            rig.append(1)
            rig.input { $0.readingsAvailable(now: $1) }
        }
        #expect(rig.connections.last?.contains(.pingreq) == true)
        #expect(second == 45, "PINGREQ after 30 s of silence from the broker, then 15 s for PINGRESP")
        #expect(rig.logLines.last?.hasPrefix("connection failed: keep-alive timeout") == true)
        #expect(rig.retryDelays.count == 1)
    }
}

@Suite("Publisher state machine: messages both ways")
struct PublisherMessagesTests {
    static let commands = Subscription(topicFilter: "devices/dev-1/commands/#", qos: .atLeastOnce)

    func rig() -> PublisherRig {
        var configuration = PublisherRig.configuration()
        configuration.subscriptions = [Self.commands]
        return PublisherRig(configuration: configuration)
    }

    @Test("the configured subscriptions are asked for at the first CONNACK, and a refusal is named")
    func subscribesAtFirstConnAck() {
        var rig = rig()
        rig.startAndConnect()
        rig.acceptConnection()
        let subscribes: [SubscribePacket] =
            rig.connections.last?.compactMap { packet -> SubscribePacket? in
                if case .subscribe(let subscribe) = packet { subscribe } else { nil }
            } ?? []
        #expect(subscribes.map(\.subscriptions) == [[Self.commands]])
        let id = subscribes.first!.packetID
        rig.brokerSends(.suback(SubAckPacket(packetID: id, reasonCodes: [.notAuthorized])))
        #expect(
            rig.logLines.contains {
                $0.hasPrefix("broker refused the subscription to devices/dev-1/commands/#")
            }
        )
    }

    @Test("an incoming message reaches the driver once, and QoS 1 is acknowledged")
    func incomingMessage() {
        var rig = rig()
        rig.startAndConnect()
        rig.acceptConnection()
        let command = PublishPacket(
            topic: "devices/dev-1/commands",
            payload: Array(#"{"id":"1","command":"ping"}"#.utf8),
            qos: .atLeastOnce,
            packetID: 9
        )
        let step = rig.brokerSends(.publish(command))
        #expect(step.contains(.messageReceived(command)))
        #expect(rig.connections.last?.contains(.puback(AckPacket(packetID: 9))) == true)
    }

    @Test("a reply goes out with its properties and is reported settled once acknowledged, not as a reading")
    func outboundMessage() {
        var rig = rig()
        rig.startAndConnect()
        rig.acceptConnection()
        rig.acknowledgeAll()
        var properties = PublishProperties()
        properties.correlationData = [1, 2, 3]
        let reply = OutboundMessage(
            topic: "operators/alice/replies",
            payload: Array(#"{"id":"1","ok":true}"#.utf8),
            properties: properties,
            id: 41
        )
        rig.input { $0.publish(reply, now: $1) }
        let sent = rig.publishes.last!
        #expect(sent.topic == "operators/alice/replies" && sent.properties.correlationData == [1, 2, 3])
        rig.acknowledgeAll()
        #expect(rig.actions.contains(.messageSettled(id: 41, delivered: true)))
        #expect(rig.acknowledged.isEmpty, "a reply is not a spool seq")
    }

    @Test("replies are left out of the session file, which only names spool seqs")
    func repliesAreNotPersisted() {
        var rig = rig()
        rig.startAndConnect()
        rig.acceptConnection()
        rig.input { $0.publish(OutboundMessage(topic: "devices/dev-1/replies", payload: [1], id: 5), now: $1) }
        rig.advance(to: .seconds(2))
        rig.input { $0.tick(now: $1) }
        let files = rig.actions.compactMap { if case .saveSession(let file) = $0 { file } else { nil } }
        #expect(files.last?.inFlight.isEmpty == true)
    }
}

@Suite("Publisher state machine: reconnecting on purpose")
struct PublisherReconnectTests {
    @Test("a reconnect ends the connection with DISCONNECT (session kept) and connects again at once")
    func reconnectWhileConnected() {
        var rig = PublisherRig()
        rig.append(3)
        rig.startAndConnect()
        rig.acceptConnection()
        let connects = rig.actions.filter { $0 == .connect }.count
        let step = rig.input { $0.reconnect(reason: "certificate renewed", now: $1) }
        let previous = rig.connections.dropLast().last
        guard case .disconnect(let packet) = previous?.last else {
            Issue.record("no DISCONNECT before the reconnect: \(String(describing: previous?.last))")
            return
        }
        #expect(packet.reasonCode == .normalDisconnection, "a normal DISCONNECT: the broker keeps the session, no Will")
        #expect(step.contains(.closeConnection) && step.last(where: { $0 == .connect }) != nil)
        #expect(rig.actions.filter { $0 == .connect }.count == connects + 1)
        #expect(rig.retryDelays.isEmpty, "no back-off for a reconnect asked for")
        // The readings in flight are sent again on the new connection.
        rig.input { $0.connectionEstablished(now: $1) }
        rig.acceptConnection(sessionPresent: true)
        rig.acknowledgeAll()
        #expect(rig.acknowledged == [1, 2, 3])
    }

    @Test("a reconnect during an attempt redoes the attempt once it ends, with the new settings")
    func reconnectWhileConnecting() {
        var rig = PublisherRig()
        rig.input { $0.start(now: $1) }
        rig.input { $0.reconnect(reason: "new broker", now: $1) }
        let step = rig.input { $0.connectionEstablished(now: $1) }
        #expect(step == [.closeConnection, .connect])
        rig.input { $0.connectionEstablished(now: $1) }
        rig.acceptConnection()
        #expect(rig.machine.isConnected)
    }

    @Test("a reconnect while waiting to retry connects at once and starts the back-off over")
    func reconnectWhileWaiting() {
        var rig = PublisherRig()
        rig.input { $0.start(now: $1) }
        for _ in 0..<5 {
            rig.input { $0.connectionFailed(reason: "refused", isTrustFailure: false, now: $1) }
            let token = rig.lastRetryToken!
            rig.input { $0.retryTimerFired(token: token, now: $1) }
        }
        rig.input { $0.connectionFailed(reason: "refused", isTrustFailure: false, now: $1) }
        let step = rig.input { $0.reconnect(reason: "new config", now: $1) }
        #expect(step.contains(.connect))
        rig.input { $0.connectionFailed(reason: "refused", isTrustFailure: false, now: $1) }
        #expect(rig.retryDelays.last! < .seconds(1), "the back-off started over")
    }
}
