import Foundation
import Logging
import Publisher
import Synchronization
import Testing

@testable import PinpostAgent

@Suite("Live configuration and discovery removals")
struct LiveConfigTests {
    func load(_ extra: String = "", sensors: String = DiscoveryConfigsTests.config) throws -> AgentConfiguration {
        try ConfigLoader.parse(sensors + "\n" + extra, file: "/etc/pinpost/pinpost.toml")
    }

    @Test func changesAreSortedByWhatTheyTake() throws {
        let base = try load()
        var next = base
        next.outputs.removeAll()
        next.homeAssistant.model = "other"
        next.broker.host = "mqtt.example.net"
        next.tls.minVersion = "1.3"
        var change = ConfigChange(from: base, to: next)
        #expect(change.live == ["[[output]]", "[homeassistant]"])
        #expect(change.reconnect == ["broker.host", "[tls]"])
        #expect(change.restart.isEmpty)
        next.sensors.removeLast()
        next.broker.keepAlive = .seconds(5)
        change = ConfigChange(from: base, to: next)
        #expect(change.restart == ["broker.keepalive", "[[sensor]]"])
        #expect(ConfigChange(from: base, to: base).isEmpty)
    }

    @Test func aRemovedEntityGetsAnEmptyRetainedConfigAlsoAfterARestart() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pinpost-ha-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let sent = Mutex<[OutboundMessage]>([])
        let announcer = DiscoveryAnnouncer(spoolFolder: folder, logger: Logger(label: "test")) { message in
            sent.withLock { $0.append(message) }
        }
        let full = try load()
        announcer.announce(full)
        #expect(sent.withLock { $0 }.count == 5 && sent.withLock { $0 }.allSatisfy { $0.retain && !$0.payload.isEmpty })
        sent.withLock { $0.removeAll() }

        var smaller = full
        smaller.sensors.removeAll { $0.name == "room" }
        // A new announcer over the same folder: the agent restarted with the sensor gone.
        let restarted = DiscoveryAnnouncer(spoolFolder: folder, logger: Logger(label: "test")) { message in
            sent.withLock { $0.append(message) }
        }
        #expect(restarted.announce(smaller) == ["homeassistant/sensor/dev-0001/room/config"])
        let removal = sent.withLock { $0 }.filter { $0.payload.isEmpty }
        #expect(removal.map(\.topic) == ["homeassistant/sensor/dev-0001/room/config"] && removal.allSatisfy(\.retain))
        // Retired topics are emptied again at the next start (in case the first removal never left the session).
        sent.withLock { $0.removeAll() }
        restarted.announce(smaller)
        #expect(
            sent.withLock { $0 }.filter { $0.payload.isEmpty }.map(\.topic) == [
                "homeassistant/sensor/dev-0001/room/config"
            ]
        )

        var off = smaller
        off.homeAssistant.enabled = false
        sent.withLock { $0.removeAll() }
        restarted.announce(off)
        #expect(sent.withLock { $0 }.allSatisfy { $0.payload.isEmpty } && sent.withLock { $0 }.count == 5)
    }
}
