import DurableSpool
import MQTT
import Publisher
import Testing

/// Deterministic RNG (SplitMix64), so back-off delays replay exactly.
struct SplitMix64: RandomNumberGenerator, Sendable {
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

/// Drives a `PublisherMachine` in virtual time the way the agent's driver does: it answers the machine's
/// requests from an in-memory spool at once, records every other action, and plays the broker with the MQTT
/// codec (what the machine writes is decoded; what the broker says is encoded).
struct PublisherRig {
    var machine: PublisherMachine<SplitMix64>
    let version: MQTTVersion
    var now: Duration = .zero
    /// Readings not yet handed out, oldest first.
    var unsent: [SpoolRecord] = []
    var nextSeq: UInt64 = 1
    /// The status payloads the rig made, in order (their `state`).
    var statusStates: [String] = []
    /// Every action the machine emitted except answered requests, in order.
    var actions: [PublisherAction] = []
    /// Packets the machine wrote, decoded, per connection (the last element is the current connection).
    var connections: [[Packet]] = []
    var flushes = 0
    /// Most readings the session held at once (in flight plus queued).
    var peakSessionLoad = 0
    private var decoder: PacketDecoder

    init(
        version: MQTTVersion = .v5,
        configuration: PublisherConfiguration = PublisherRig.configuration(),
        session: ClientSession.Configuration? = nil,
        restoring snapshot: SessionSnapshot? = nil,
        seed: UInt64 = 7
    ) {
        self.version = version
        let sessionConfiguration =
            session
            ?? ClientSession.Configuration(
                clientID: "dev-1",
                version: version,
                keepAlive: .seconds(30),
                sessionExpiry: version == .v5 ? 86_400 : nil,
                pingTimeout: .seconds(15),
                maximumInFlight: 20
            )
        let clientSession =
            snapshot.map { ClientSession(configuration: sessionConfiguration, restoring: $0) }
            ?? ClientSession(configuration: sessionConfiguration)
        machine = PublisherMachine(
            configuration: configuration,
            session: clientSession,
            holdsSession: snapshot != nil,
            random: SplitMix64(seed: seed)
        )
        decoder = PacketDecoder(version: version)
    }

    static func configuration(
        backoffInitial: Duration = .seconds(1),
        backoffMaximum: Duration = .seconds(300),
        stableAfter: Duration = .seconds(60),
        statusInterval: Duration = .seconds(60),
        checkpointInterval: Duration = .seconds(1),
        watchdogInterval: Duration? = nil,
        sessionWindow: Int = 256,
        sensors: [PublisherConfiguration.SensorQoS] = []
    ) -> PublisherConfiguration {
        PublisherConfiguration(
            clientID: "dev-1",
            brokerAddress: "broker.test:8883",
            statusTopic: "devices/dev-1/status",
            backoffInitial: backoffInitial,
            backoffMaximum: backoffMaximum,
            stableAfter: stableAfter,
            statusInterval: statusInterval,
            checkpointInterval: checkpointInterval,
            watchdogInterval: watchdogInterval,
            sessionWindow: sessionWindow,
            sensors: sensors
        )
    }

    // MARK: Inputs

    /// Feeds one input at the rig's current time and performs the answers; returns the new actions.
    @discardableResult
    mutating func input(
        _ body: (inout PublisherMachine<SplitMix64>, Duration) -> [PublisherAction]
    ) -> [PublisherAction] {
        let first = actions.count
        run(body(&machine, now))
        return Array(actions[first...])
    }

    mutating func advance(to time: Duration) {
        now = time
    }

    /// Appends readings to the in-memory spool (not yet announced to the machine).
    mutating func append(_ count: Int, qos: QoS = .atLeastOnce, topic: String = "devices/dev-1/sensors/door") {
        for _ in 0..<count {
            unsent.append(
                SpoolRecord(
                    seq: nextSeq,
                    takenAtMilliseconds: 0,
                    qos: qos.rawValue,
                    topic: topic,
                    payload: Array("{\"seq\":\(nextSeq)}".utf8)
                )
            )
            nextSeq += 1
        }
    }

    /// Starts the machine and lets its first connection attempt succeed.
    mutating func startAndConnect() {
        input { $0.start(now: $1) }
        input { $0.connectionEstablished(now: $1) }
    }

    /// The broker answers CONNECT.
    @discardableResult
    mutating func acceptConnection(
        sessionPresent: Bool = false,
        properties: ConnAckProperties = ConnAckProperties()
    ) -> [PublisherAction] {
        let connack = ConnAckPacket(sessionPresent: sessionPresent, reasonCode: .success, properties: properties)
        return brokerSends(.connack(connack))
    }

    @discardableResult
    mutating func brokerSends(_ packets: Packet...) -> [PublisherAction] {
        var bytes: [UInt8] = []
        for packet in packets {
            bytes += (try? PacketEncoder.encode(packet, version: version)) ?? []
        }
        return input { $0.received(bytes, now: $1) }
    }

    /// Answers everything the broker owes on the current connection: a PUBACK for every QoS 1 PUBLISH and a
    /// PINGRESP for every PINGREQ not answered yet.
    @discardableResult
    mutating func acknowledgeAll() -> [PublisherAction] {
        let owed = (connections.last ?? []).dropFirst(acknowledgedPackets)
        acknowledgedPackets = connections.last?.count ?? 0
        var bytes: [UInt8] = []
        for packet in owed {
            switch packet {
            case .publish(let publish) where publish.qos == .atLeastOnce:
                let ack = AckPacket(packetID: publish.packetID ?? 0)
                bytes += (try? PacketEncoder.encode(.puback(ack), version: version)) ?? []
            case .pingreq:
                bytes += (try? PacketEncoder.encode(.pingresp, version: version)) ?? []
            default:
                break
            }
        }
        guard !bytes.isEmpty else { return [] }
        return input { $0.received(bytes, now: $1) }
    }

    /// Packets of the current connection the broker has answered (the rest are unacknowledged).
    private var acknowledgedPackets = 0

    // MARK: Observation

    /// The PUBLISH packets written on the current connection.
    var publishes: [PublishPacket] {
        (connections.last ?? []).compactMap { if case .publish(let p) = $0 { p } else { nil } }
    }

    var acknowledged: [UInt64] { actions.compactMap { if case .acknowledge(let seq) = $0 { seq } else { nil } } }
    var rejected: [UInt64] { actions.compactMap { if case .reject(let seq) = $0 { seq } else { nil } } }
    var logLines: [String] { actions.compactMap { if case .log(let entry) = $0 { entry.message } else { nil } } }
    var retryDelays: [Duration] {
        actions.compactMap { if case .startRetryTimer(let delay, _) = $0 { delay } else { nil } }
    }
    var lastRetryToken: Int? {
        actions.last { if case .startRetryTimer = $0 { true } else { false } }.flatMap {
            if case .startRetryTimer(_, let token) = $0 { token } else { nil }
        }
    }

    // MARK: Performing

    private mutating func run(_ initial: [PublisherAction]) {
        var queue = initial
        var index = 0
        while index < queue.count {
            let action = queue[index]
            index += 1
            switch action {
            case .takeReadings(let limit):
                let taken = Array(unsent.prefix(limit))
                unsent.removeFirst(taken.count)
                queue += machine.readingsTaken(taken, now: now)
            case .makeStatus(let request):
                statusStates.append(request.state)
                queue += machine.statusMade(Array("{\"state\":\"\(request.state)\"}".utf8), now: now)
            case .connect:
                actions.append(action)
                connections.append([])
                acknowledgedPackets = 0
                decoder = PacketDecoder(version: version)
            case .write(let bytes):
                actions.append(action)
                decoder.append(bytes)
                while let packet = try? decoder.next() {
                    connections[connections.count - 1].append(packet)
                }
            case .flush:
                actions.append(action)
                flushes += 1
            default:
                actions.append(action)
            }
            peakSessionLoad = max(peakSessionLoad, machine.sessionLoad)
        }
    }
}
