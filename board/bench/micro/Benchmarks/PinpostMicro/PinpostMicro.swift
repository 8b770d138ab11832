import Benchmark
import DurableSpool
import Glibc
import MQTT
import Publisher

/// Per-message work of the hot paths, with allocation counts: the codec (PUBLISH encode into a
/// reused buffer, PUBLISH and PUBACK decode), the session state machine (publish -> PUBACK at QoS 1)
/// and the spool (append; append -> take -> acknowledge). Each iteration is one message, so
/// `Malloc (total)` per iteration is allocations per message.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .throughput],
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000
    )
    let topic = "devices/dev-0001/sensors/door"
    let payload = [UInt8](repeating: UInt8(ascii: "x"), count: 64)

    Benchmark("codec: encode PUBLISH 64 B QoS 1 into a reused buffer") { benchmark in
        let packet = Packet.publish(PublishPacket(topic: topic, payload: payload, qos: .atLeastOnce, packetID: 7))
        var buffer: [UInt8] = []
        buffer.reserveCapacity(512)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            buffer.removeAll(keepingCapacity: true)
            try PacketEncoder.encode(packet, version: .v5, into: &buffer)
            blackHole(buffer.count)
        }
    }

    Benchmark("codec: decode PUBLISH 64 B QoS 1") { benchmark in
        let bytes = try PacketEncoder.encode(
            .publish(PublishPacket(topic: topic, payload: payload, qos: .atLeastOnce, packetID: 7)),
            version: .v5
        )
        var decoder = PacketDecoder(version: .v5)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            decoder.append(bytes)
            blackHole(try decoder.next())
        }
    }

    Benchmark("codec: decode PUBACK") { benchmark in
        let bytes = try PacketEncoder.encode(.puback(AckPacket(packetID: 7)), version: .v5)
        var decoder = PacketDecoder(version: .v5)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            decoder.append(bytes)
            blackHole(try decoder.next())
        }
    }

    Benchmark("session: publish -> PUBACK, QoS 1, 64 B") { benchmark in
        var session = ClientSession(configuration: .init(clientID: "dev-0001", version: .v5))
        _ = session.connectionEstablished(now: .zero)
        _ = session.received(
            try PacketEncoder.encode(.connack(ConnAckPacket(sessionPresent: false)), version: .v5),
            now: .zero
        )
        // PUBLISH with a 1-byte remaining length: packet id after type, length, topic length and topic.
        let idOffset = 2 + 2 + topic.utf8.count
        var tag: UInt64 = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            tag += 1
            let actions = try session.publish(
                topic: topic,
                payload: payload,
                qos: .atLeastOnce,
                retain: false,
                tag: tag,
                now: .zero
            )
            guard case .send(let sent) = actions.first else { fatalError("no PUBLISH sent") }
            let ack: [UInt8] = [0x40, 0x02, sent[idOffset], sent[idOffset + 1]]
            blackHole(session.received(ack, now: .zero))
        }
    }

    Benchmark("publisher: reading taken -> PUBLISH written -> PUBACK -> acknowledged, QoS 1, 64 B") { benchmark in
        // The agent's write path above the socket: the publisher state machine takes a record from the spool,
        // the session encodes its PUBLISH, the PUBACK comes back and the seq is acknowledged. One reading per
        // iteration, the way a steady stream flows (one reading per input).
        var machine = PublisherMachine(
            configuration: PublisherConfiguration(
                clientID: "dev-0001",
                brokerAddress: "broker:8883",
                statusTopic: "devices/dev-0001/status"
            ),
            session: ClientSession(configuration: .init(clientID: "dev-0001", version: .v5)),
            holdsSession: false,
            random: SystemRandomNumberGenerator()
        )
        _ = machine.start(now: .zero)
        _ = machine.connectionEstablished(now: .zero)
        _ = machine.received(
            try PacketEncoder.encode(.connack(ConnAckPacket(sessionPresent: false)), version: .v5),
            now: .zero
        )
        // Answer the status message so the session is empty.
        _ = machine.statusMade(Array("{}".utf8), now: .zero)
        _ = machine.received([0x40, 0x02, 0x00, 0x01], now: .zero)
        let idOffset = 2 + 2 + topic.utf8.count
        var seq: UInt64 = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            seq += 1
            let record = SpoolRecord(seq: seq, takenAtMilliseconds: 0, qos: 1, topic: topic, payload: payload)
            _ = machine.readingsAvailable(now: .zero)
            var written: [UInt8] = []
            for action in machine.readingsTaken([record], now: .zero) {
                if case .write(let bytes) = action { written = bytes }
            }
            blackHole(machine.received([0x40, 0x02, written[idOffset], written[idOffset + 1]], now: .zero))
        }
    }

    Benchmark("spool: append 64 B (fsync 1s)") { benchmark in
        let folder = temporaryFolder()
        let spool = try Spool(configuration: SpoolConfiguration(directory: folder, fsync: .interval(.seconds(1))))
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(spool.append(qos: 1, takenAtMilliseconds: 1_763_860_923_456, topic: topic) { _ in payload })
        }
        benchmark.stopMeasurement()
        try spool.checkpoint()
        removeFolder(folder)
    }

    Benchmark("spool: append -> take -> acknowledge 64 B (fsync 1s)") { benchmark in
        let folder = temporaryFolder()
        let spool = try Spool(configuration: SpoolConfiguration(directory: folder, fsync: .interval(.seconds(1))))
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            _ = spool.append(qos: 1, takenAtMilliseconds: 1_763_860_923_456, topic: topic) { _ in payload }
            for record in spool.takeUnsent(limit: 1) {
                blackHole(spool.acknowledge(record.seq))
            }
        }
        benchmark.stopMeasurement()
        try spool.checkpoint()
        removeFolder(folder)
    }
}

/// A fresh folder under /tmp for one spool benchmark.
func temporaryFolder() -> String {
    var template = Array("/tmp/pinpost-micro-XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
}

/// Removes a spool benchmark's folder (two levels: the folder and its `spool/`).
func removeFolder(_ folder: String) {
    for sub in [folder + "/spool", folder] {
        if let directory = opendir(sub) {
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) {
                    String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name != "." && name != ".." { unlink(sub + "/" + name) }
            }
            closedir(directory)
        }
        rmdir(sub)
    }
}
