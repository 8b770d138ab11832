import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What the interop tests share: an agent config with one sensor per QoS, per-sensor views of what a
/// subscriber saw, and the last seq the agent assigned.
struct InteropRun {
    let folder: URL
    let device: TestPKI.Identity
    let deviceID = "dev-0001"

    /// Sensors `q0`, `q1`, `q2` publishing at QoS 0, 1, 2; fast back-off so restarts are quick.
    func config(port: Int, protocolVersion: String, toggle: String = "100ms", qos: [Int] = [0, 1, 2]) throws -> String {
        var config = AgentConfig(deviceID: deviceID, identity: device, port: port, protocolVersion: protocolVersion)
        config.keepalive = 5
        config.connectTimeout = 3
        config.sensors = qos.enumerated().map { index, level in
            """
            [[sensor]]
            name = "q\(level)"
            type = "digital"
            chip = "gpiochip0"
            line = \(17 + index)
            qos = \(level)
            simulate = "toggle:\(toggle)"
            """
        }.joined(separator: "\n\n")
        config.extraSections = """
            [backoff]
            initial = "200ms"
            max = "1s"
            """
        return try config.write(to: folder)
    }

    func readings(_ messages: [Subscriber.Message], sensor: String) -> [ReadingJSON] {
        messages.filter { $0.topic == "devices/\(deviceID)/sensors/\(sensor)" }.compactMap {
            ReadingJSON.parse($0.payload)
        }
    }

    /// The last seq the agent handed out, from its spool's ack file (after it stopped).
    func lastSeq() throws -> UInt64 {
        let ack = try String(contentsOf: folder.appendingPathComponent("state-\(deviceID)/spool/ack"), encoding: .utf8)
        guard let line = ack.split(separator: "\n").first(where: { $0.hasPrefix("last_seq ") }),
            let value = UInt64(line.dropFirst(9))
        else {
            throw HarnessError("no last_seq in ack file: \(ack)")
        }
        return value
    }

    /// Protocol violations either side reported in the agent's log: a broker DISCONNECT for a malformed packet,
    /// a protocol error or a bad Topic Alias, or the agent's own protocol error verdict. Empty in a clean run.
    func protocolViolations(_ log: String) -> [Substring] {
        log.split(separator: "\n").filter { line in
            ["Malformed Packet", "Protocol Error", "Topic Alias invalid", "MQTT protocol error"].contains {
                line.contains($0)
            }
        }
    }

    /// The agent's MQTT connections whose CONNACK said Session Present = `sessionPresent`.
    func connections(_ log: String, sessionPresent: Bool) -> Int {
        log.components(separatedBy: "session_present=\(sessionPresent)").count - 1
    }

    /// Waits until a reading of `q1` or `q2` with a seq above `seq` (taken after that moment) reaches `observer`.
    func freshReading(at observer: Subscriber, after seq: UInt64) async throws -> Bool {
        try await waitFor(timeout: .seconds(60)) {
            let messages = observer.messages
            return ["q1", "q2"].contains { readings(messages, sensor: $0).contains { $0.seq > seq } }
        }
    }

    /// True when the agent's latest connection attempt succeeded (it is connected now).
    func reconnected(_ log: String) -> Bool {
        guard let connected = log.range(of: "MQTT connected", options: .backwards) else { return false }
        guard let failed = log.range(of: "connection failed", options: .backwards) else { return true }
        return connected.lowerBound > failed.lowerBound
    }

    /// The QoS scenario both brokers run, on an agent publishing `q0`, `q1` and `q2`: once each sensor has at least
    /// 5 readings at `subscriber` the agent stops cleanly; then every seq must arrive (a clean shutdown flushes
    /// QoS 0 on a live connection too), QoS 2 readings exactly once, and no protocol violation was logged.
    func checkQoSLevels(
        agent: AgentProcess,
        subscriber: Subscriber,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let sensors = ["q0", "q1", "q2"]
        try await subscriber.wait { messages in sensors.allSatisfy { readings(messages, sensor: $0).count >= 5 } }
        #expect(await agent.stop() == 0, "\(agent.log)", sourceLocation: sourceLocation)
        let last = try lastSeq()
        let messages = try await subscriber.wait { messages in
            Set(sensors.flatMap { readings(messages, sensor: $0).map(\.seq) }) == Set(1...last)
        }
        let seqs = sensors.map { readings(messages, sensor: $0).map(\.seq) }
        #expect(seqs.allSatisfy { $0.count >= 5 }, "\(agent.log)", sourceLocation: sourceLocation)
        #expect(Set(seqs[2]).count == seqs[2].count, "QoS 2 duplicates: \(seqs[2])", sourceLocation: sourceLocation)
        let all = Set(seqs.joined())
        #expect(
            all == Set(1...last),
            "missing \(Set(1...last).subtracting(all).sorted())",
            sourceLocation: sourceLocation
        )
        #expect(agent.log.contains("MQTT connected"), sourceLocation: sourceLocation)
        #expect(
            protocolViolations(agent.log).isEmpty,
            "\(protocolViolations(agent.log).prefix(3))",
            sourceLocation: sourceLocation
        )
    }

    /// The takeover scenario both brokers run, once the agent is connected: three impostors with the device's identity
    /// and client id connect one after the other, each once the agent has won its connection back from the one
    /// before, and are killed; the agent must be connected again, still running, have named the takeover, stop
    /// cleanly, and every QoS 1 reading must reach `subscriber`.
    func checkTakeover(
        agent: AgentProcess,
        subscriber: Subscriber,
        port: Int,
        protocolVersion: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        #expect(
            try await waitFor { agent.log.contains("MQTT connected") },
            "\(agent.events.suffix(2000))",
            sourceLocation: sourceLocation
        )
        var impostors: [ChildProcess] = []
        for round in 1...3 {
            let connections = agent.count("MQTT connected")
            impostors.append(try impostor(port: port, protocolVersion: protocolVersion))
            // The impostor knocks the agent off; the agent's next CONNACK shows it got its connection back.
            #expect(
                try await waitFor { agent.count("MQTT connected") > connections },
                "round \(round): the agent connects again: \(agent.events.suffix(2000))",
                sourceLocation: sourceLocation
            )
        }
        for impostor in impostors { impostor.kill() }
        // An impostor's last CONNECT can still knock the agent off after its kill was sent: only once they are all
        // gone does a reconnect last (a CI run stopped the agent 20 ms before such a knock-off, readings in its spool).
        for impostor in impostors { _ = await impostor.waitForExit(timeout: .seconds(10)) }
        let taken = agent.newestSeq
        #expect(
            try await waitFor { reconnected(agent.log) },
            "\(agent.log.suffix(2000))",
            sourceLocation: sourceLocation
        )
        // Every reading taken during the fight reaches the observer on the connection the agent keeps.
        _ = try await subscriber.wait(timeout: .seconds(60)) {
            Set(readings($0, sensor: "q1").map(\.seq)).isSuperset(of: 1...max(taken, 1))
        }
        #expect(agent.child.isRunning, sourceLocation: sourceLocation)
        #expect(await agent.stop() == 0, "\(agent.log)", sourceLocation: sourceLocation)
        #expect(
            agent.log.contains("another client may be using client id") || agent.log.contains("session taken over"),
            "the takeover is named: \(agent.log.suffix(3000))",
            sourceLocation: sourceLocation
        )
        let last = try lastSeq()
        let messages = try await subscriber.wait { Set(readings($0, sensor: "q1").map(\.seq)) == Set(1...last) }
        let seen = Set(readings(messages, sensor: "q1").map(\.seq))
        #expect(
            seen == Set(1...last),
            "missing \(Set(1...last).subtracting(seen).sorted())",
            sourceLocation: sourceLocation
        )
    }

    /// Starts `mosquitto_sub` with the device's own identity and client id: the broker drops the agent's
    /// connection in its favour; the agent's reconnect then drops this one, and mosquitto_sub exits.
    func impostor(port: Int, protocolVersion: String) throws -> ChildProcess {
        try ChildProcess(
            "/usr/bin/mosquitto_sub",
            [
                "-h", "localhost", "-p", "\(port)", "-V", protocolVersion == "5" ? "5" : "mqttv311",
                "--cafile", device.trustAnchor, "--cert", device.certificate, "--key", device.key,
                "-i", deviceID, "-t", "devices/\(deviceID)/commands/x",
            ],
            outputPath: folder.appendingPathComponent("impostor.out").path
        )
    }
}
