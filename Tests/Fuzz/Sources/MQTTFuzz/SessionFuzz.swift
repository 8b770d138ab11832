import MQTT

/// State-machine target: the input is a script of operations (server bytes in chunks, publishes, timer ticks,
/// lost connections, reconnects, subscribes, graceful disconnects) run against one `ClientSession` with virtual
/// time. Invariants: every byte the client sends decodes as exactly one well-formed packet; after `.close` the
/// session is not connected; QoS > 0 PUBLISHes carry non-zero ids not used by another message in flight; topic
/// aliases only in MQTT 5 and never 0 (the usual scripted CONNACK allows 2, so the alias paths are exercised).
enum SessionFuzz {
    static func run(_ input: [UInt8]) {
        let version: MQTTVersion = input[0] & 2 == 0 ? .v3_1_1 : .v5
        var configuration = ClientSession.Configuration(
            clientID: "fuzz",
            version: version,
            keepAlive: .seconds(5),
            cleanStart: input[0] & 4 != 0,
            sessionExpiry: version == .v5 ? 60 : nil,
            receiveMaximum: 4,
            maximumPacketSize: 4096,
            pingTimeout: .seconds(2),
            qosAboveMaximum: input[0] & 8 == 0 ? .downgrade : .refuse
        )
        configuration.will = Will(topic: "w", payload: [1], qos: .atLeastOnce, retain: true)
        configuration.maximumInFlight = input[0] & 32 != 0 ? 3 : nil
        var session = ClientSession(configuration: configuration)
        var now = Duration.zero
        var script = Script(bytes: input, offset: 1)
        var tag: UInt64 = 0

        apply(session.connectionEstablished(now: now), session: session, version: version)
        if input[0] & 16 != 0 {
            // Usually start connected, so the fuzzer spends its time after CONNACK.
            let connack = ConnAckPacket(
                sessionPresent: false,
                properties: version == .v5
                    ? ConnAckProperties(
                        receiveMaximum: 2,
                        maximumQoS: .atLeastOnce,
                        maximumPacketSize: 512,
                        topicAliasMaximum: 2
                    )
                    : ConnAckProperties()
            )
            if let bytes = try? PacketEncoder.encode(.connack(connack), version: version) {
                apply(session.received(bytes, now: now), session: session, version: version)
            }
        }
        var steps = 0
        while let op = script.next(), steps < 512 {
            steps += 1
            switch op % 8 {
            case 0, 1, 2:
                let length = Int(script.next() ?? 0)
                apply(session.received(script.take(length), now: now), session: session, version: version)
            case 3:
                tag += 1
                let qos = QoS(rawValue: (script.next() ?? 0) % 3) ?? .atMostOnce
                let size = Int(script.next() ?? 0) * 4
                if let actions = try? session.publish(
                    topic: "t/\(tag % 3)",
                    payload: Array(repeating: 0x41, count: size),
                    qos: qos,
                    retain: op & 8 != 0,
                    tag: tag,
                    now: now
                ) {
                    apply(actions, session: session, version: version)
                }
            case 4:
                now += .milliseconds(Int(script.next() ?? 0) * 50)
                apply(session.tick(now: now), session: session, version: version)
            case 5:
                apply(session.connectionLost(), session: session, version: version)
                apply(session.connectionEstablished(now: now), session: session, version: version)
            case 6:
                if let (_, actions) = try? session.subscribe(
                    [Subscription(topicFilter: "c/#", qos: .exactlyOnce)],
                    now: now
                ) {
                    apply(actions, session: session, version: version)
                }
            default:
                apply(session.disconnect(now: now), session: session, version: version)
                let restored = ClientSession(configuration: configuration, restoring: session.persistentState)
                session = restored
                apply(session.connectionEstablished(now: now), session: session, version: version)
            }
        }
    }

    static func apply(_ actions: [SessionAction], session: ClientSession, version: MQTTVersion) {
        var closed = false
        for action in actions {
            switch action {
            case .send(let bytes):
                fuzzCheck(!closed, "bytes sent after close")
                var decoder = PacketDecoder(version: version, maximumPacketSize: 1 << 20)
                decoder.append(bytes)
                do {
                    let packet = try decoder.next()
                    fuzzCheck(packet != nil && decoder.bufferedByteCount == 0, "client sent a partial or double packet")
                    if case .publish(let publish)? = packet {
                        fuzzCheck((publish.qos == .atMostOnce) == (publish.packetID == nil), "packet id vs QoS")
                        fuzzCheck(publish.packetID != 0, "packet id 0")
                        fuzzCheck(!(publish.qos == .atMostOnce && publish.dup), "DUP on QoS 0")
                        if let alias = publish.properties.topicAlias {
                            fuzzCheck(version == .v5 && alias != 0, "topic alias \(alias) in \(version)")
                        }
                    }
                } catch {
                    fuzzCheck(false, "client sent malformed bytes: \(error)")
                }
            case .close:
                closed = true
            case .event:
                break
            }
        }
        if closed { fuzzCheck(!session.isConnected, "connected after close") }
        let ids = session.persistentState.inFlight.map(\.packetID)
        fuzzCheck(Set(ids).count == ids.count && !ids.contains(0), "in-flight ids not unique: \(ids)")
    }

    /// Reads the operation script.
    struct Script {
        let bytes: [UInt8]
        var offset: Int

        mutating func next() -> UInt8? {
            guard offset < bytes.count else { return nil }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func take(_ count: Int) -> [UInt8] {
            let end = min(bytes.count, offset + count)
            defer { offset = end }
            return Array(bytes[offset..<end])
        }
    }
}
