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

    init(_ name: String, brokerPersistence: Bool = true) throws {
        folder = try Repository.temporaryFolder(name)
        pki = try TestPKI(in: folder)
        broker = try TestBroker(pki: pki, persistence: brokerPersistence)
        proxy = try TCPProxy(upstreamPort: broker.port)
        subscriber = try Subscriber(broker: broker, topic: "devices/\(deviceID)/#", persistentSession: "fault-watcher")
        device = try pki.device(deviceID)
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
        let ack = try String(contentsOf: folder.appendingPathComponent("state-\(spoolName)/spool/ack"), encoding: .utf8)
        guard let line = ack.split(separator: "\n").first(where: { $0.hasPrefix("last_seq ") }),
            let value = UInt64(line.dropFirst(9))
        else {
            throw HarnessError("no last_seq in ack file: \(ack)")
        }
        return value
    }

    var readings: [ReadingJSON] {
        subscriber.messages.filter { $0.topic.hasSuffix("/sensors/door") }.compactMap { ReadingJSON.parse($0.payload) }
    }

    var statuses: [StatusJSON] {
        subscriber.messages.filter { $0.topic.hasSuffix("/status") }.compactMap { StatusJSON.parse($0.payload) }
    }

    /// Waits (bounded) until every seq in 1...last has arrived, and returns the tally.
    func tally(
        upTo last: UInt64,
        excluding expectedMissing: Set<UInt64> = [],
        timeout: Duration = .seconds(30)
    ) -> Tally {
        subscriber.wait(timeout: timeout) { _ in
            let seen = Set(self.readings.map(\.seq))
            return (1...max(last, 1)).allSatisfy { seen.contains($0) || expectedMissing.contains($0) }
        }
        let seqs = readings.map(\.seq)
        let seen = Set(seqs)
        let missing = (1...max(last, 1)).filter { !seen.contains($0) }
        return Tally(produced: last, delivered: seen.count, duplicates: seqs.count - seen.count, missing: missing)
    }

    func stop() {
        subscriber.stop()
        proxy.stop()
        broker.stop()
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
