import MQTT
import Testing

/// Deterministic RNG (SplitMix64) so chunking and fuzz tests are reproducible.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func bytes(_ string: String) -> [UInt8] { Array(string.utf8) }

/// Hex dump for readable failure messages.
func hex(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
}

/// Decodes every packet in `input`, feeding it in chunks whose sizes come from `chunkSize`.
func decodeAll(
    _ input: [UInt8],
    version: MQTTVersion,
    maximumPacketSize: Int = 1 << 20,
    chunkSize: (Int) -> Int
) throws(MQTTCodecError) -> [Packet] {
    var decoder = PacketDecoder(version: version, maximumPacketSize: maximumPacketSize)
    var packets: [Packet] = []
    var offset = 0
    while offset < input.count {
        let size = max(1, min(chunkSize(input.count - offset), input.count - offset))
        decoder.append(input[offset..<offset + size])
        offset += size
        while let packet = try decoder.next() { packets.append(packet) }
    }
    #expect(decoder.bufferedByteCount == 0)
    return packets
}

func decodeOne(
    _ input: [UInt8],
    version: MQTTVersion,
    maximumPacketSize: Int = 1 << 20
) throws(MQTTCodecError) -> Packet? {
    var decoder = PacketDecoder(version: version, maximumPacketSize: maximumPacketSize)
    decoder.append(input)
    return try decoder.next()
}

func decodeError(_ input: [UInt8], version: MQTTVersion, maximumPacketSize: Int = 1 << 20) -> MQTTCodecError? {
    do {
        _ = try decodeOne(input, version: version, maximumPacketSize: maximumPacketSize)
        return nil
    } catch {
        return error
    }
}

// MARK: - Session harness

/// Drives a `ClientSession` against a scripted broker with virtual time.
struct Harness {
    var session: ClientSession
    let version: MQTTVersion
    var now: Duration = .zero

    init(_ configuration: ClientSession.Configuration) {
        session = ClientSession(configuration: configuration)
        version = configuration.version
    }

    init(_ configuration: ClientSession.Configuration, restoring snapshot: SessionSnapshot) {
        session = ClientSession(configuration: configuration, restoring: snapshot)
        version = configuration.version
    }

    static func config(
        _ version: MQTTVersion,
        keepAlive: Duration = .seconds(60),
        cleanStart: Bool = false,
        pingTimeout: Duration = .seconds(5)
    ) -> ClientSession.Configuration {
        ClientSession.Configuration(
            clientID: "dev1",
            version: version,
            keepAlive: keepAlive,
            cleanStart: cleanStart,
            sessionExpiry: version == .v5 ? 3600 : nil,
            pingTimeout: pingTimeout
        )
    }

    /// Connects and answers CONNACK; returns the actions produced by the CONNACK.
    @discardableResult
    mutating func connect(
        sessionPresent: Bool = false,
        properties: ConnAckProperties = ConnAckProperties()
    ) -> [SessionAction] {
        let connectActions = session.connectionEstablished(now: now)
        let sent = packets(connectActions)
        #expect(sent.count == 1)
        if case .connect = sent.first {} else { Issue.record("expected CONNECT, got \(sent)") }
        return receive(.connack(ConnAckPacket(sessionPresent: sessionPresent, properties: properties)))
    }

    mutating func receive(_ packet: Packet) -> [SessionAction] {
        do {
            return session.received(try PacketEncoder.encode(packet, version: version), now: now)
        } catch {
            Issue.record("test packet does not encode: \(error)")
            return []
        }
    }

    mutating func publish(
        _ topic: String = "t",
        _ payload: String = "p",
        qos: QoS,
        retain: Bool = false,
        tag: UInt64
    ) -> [SessionAction] {
        do {
            return try session.publish(
                topic: topic,
                payload: bytes(payload),
                qos: qos,
                retain: retain,
                tag: tag,
                now: now
            )
        } catch {
            Issue.record("publish failed: \(error)")
            return []
        }
    }

    /// Decodes every `.send` as the broker would.
    func packets(_ actions: [SessionAction]) -> [Packet] {
        var decoder = PacketDecoder(version: version)
        var result: [Packet] = []
        for case .send(let bytes) in actions {
            decoder.append(bytes)
            do {
                while let packet = try decoder.next() { result.append(packet) }
            } catch {
                Issue.record("client sent undecodable bytes \(hex(bytes)): \(error)")
            }
        }
        return result
    }

    func events(_ actions: [SessionAction]) -> [SessionEvent] {
        actions.compactMap { if case .event(let event) = $0 { event } else { nil } }
    }

    func closes(_ actions: [SessionAction]) -> [CloseReason] {
        actions.compactMap { if case .close(let reason) = $0 { reason } else { nil } }
    }

    func publishes(_ actions: [SessionAction]) -> [PublishPacket] {
        packets(actions).compactMap { if case .publish(let publish) = $0 { publish } else { nil } }
    }
}
