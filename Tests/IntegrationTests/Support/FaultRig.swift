import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Broker, network and observer for the fault suite: the agent reaches a real Mosquitto through a
/// proxy the test controls, and a persistent QoS 1 subscriber records every seq.
final class FaultRig {
    let folder: URL
    let pki: TestPKI
    let broker: TestBroker
    let proxy: TCPProxy
    let subscriber: Subscriber
    let device: TestPKI.Identity
    let deviceID = "dev-0001"

    init(_ name: String, brokerPersistence: Bool = true) async throws {
        folder = try Repository.temporaryFolder(name)
        pki = try await TestPKI(in: folder)
        broker = try await TestBroker(pki: pki, persistence: brokerPersistence)
        proxy = try TCPProxy(upstreamPort: broker.port)
        subscriber = try await Subscriber(
            broker: broker,
            topic: "devices/\(deviceID)/#",
            persistentSession: "fault-watcher"
        )
        device = try await pki.device(deviceID)
    }

    /// An agent config for fault runs: fast readings, short keep-alive and back-off, via the proxy.
    func config(
        name: String = "agent",
        toggle: String = "20ms",
        spool: String = "",
        backoffMax: String = "2s"
    ) throws -> String {
        var config = AgentConfig(deviceID: deviceID, identity: device, port: proxy.port)
        config.keepalive = 2
        config.connectTimeout = 2
        config.sensors = """
            [[sensor]]
            name = "door"
            type = "digital"
            chip = "gpiochip0"
            line = 17
            simulate = "toggle:\(toggle)"
            """
        config.extraSections = """
            [backoff]
            initial = "200ms"
            max = "\(backoffMax)"

            [status]
            interval = "1s"
            """
        config.extraSpool = spool
        config.spoolName = name
        return try config.write(to: folder, fileName: "\(name).toml")
    }

    /// The last seq the agent handed out, from its spool's ack file (after it stopped).
    func lastSeq(spoolName: String = "agent") throws -> UInt64 {
        try ackField("last_seq", spoolName: spoolName)
    }

    /// Readings the spool discarded by policy so far, from its ack file: the spool's own statistics, checkpointed
    /// every `spool.fsync` (1 s by default) while the agent runs, connected or not.
    func droppedInSpool(spoolName: String = "agent") -> UInt64 {
        (try? ackField("dropped", spoolName: spoolName)) ?? 0
    }

    private func ackField(_ name: String, spoolName: String) throws -> UInt64 {
        let ack = try String(contentsOf: folder.appendingPathComponent("state-\(spoolName)/spool/ack"), encoding: .utf8)
        guard let line = ack.split(separator: "\n").first(where: { $0.hasPrefix("\(name) ") }),
            let value = UInt64(line.dropFirst(name.count + 1))
        else {
            throw HarnessError("no \(name) in ack file: \(ack)")
        }
        return value
    }

    var readings: [ReadingJSON] { Self.readings(in: subscriber.messages) }

    static func readings(in messages: [Subscriber.Message]) -> [ReadingJSON] {
        messages.filter { $0.topic.hasSuffix("/sensors/door") }.compactMap { ReadingJSON.parse($0.payload) }
    }

    var statuses: [StatusJSON] { Self.statuses(in: subscriber.messages) }

    static func statuses(in messages: [Subscriber.Message]) -> [StatusJSON] {
        messages.filter { $0.topic.hasSuffix("/status") }.compactMap { StatusJSON.parse($0.payload) }
    }

    /// The newest seq that reached the observer (0 before any).
    var newestDelivered: UInt64 { readings.map(\.seq).max() ?? 0 }

    /// Waits until a reading newer than `seq` reaches the observer. Readings leave the spool in seq order, so then
    /// everything the agent spooled up to `seq` has been sent (a backlog is out, or delivery has resumed).
    @discardableResult
    func waitForDelivery(after seq: UInt64, timeout: Duration = .seconds(60)) async throws -> Bool {
        try await subscriber.wait(timeout: timeout) { Self.readings(in: $0).contains { $0.seq > seq } }
        return newestDelivered > seq
    }

    /// Waits until every seq in 1...last has arrived (at most `timeout`, a failure bound), and returns the tally.
    func tally(
        upTo last: UInt64,
        excluding expectedMissing: Set<UInt64> = [],
        timeout: Duration = .seconds(30)
    ) async throws -> Tally {
        try await subscriber.wait(timeout: timeout) { messages in
            let seen = Set(Self.readings(in: messages).map(\.seq))
            return (1...max(last, 1)).allSatisfy { seen.contains($0) || expectedMissing.contains($0) }
        }
        let seqs = readings.map(\.seq)
        let seen = Set(seqs)
        let missing = (1...max(last, 1)).filter { !seen.contains($0) }
        return Tally(produced: last, delivered: seen.count, duplicates: seqs.count - seen.count, missing: missing)
    }

    /// Ends the observer, the proxy and the broker (SIGKILL: nothing of theirs is checked after a scenario).
    func stop() {
        subscriber.stop()
        proxy.stop()
        broker.kill()
    }
}

/// What a fault scenario produced and what arrived.
struct Tally: CustomStringConvertible {
    var produced: UInt64
    var delivered: Int
    var duplicates: Int
    var missing: [UInt64]

    var description: String {
        "produced \(produced), delivered \(delivered), duplicates \(duplicates), missing \(missing.count)\(missing.isEmpty ? "" : " \(missing.prefix(20))")"
    }
}
