import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 7's promise, under fire: a reading that was taken is delivered unless the spool limit
/// forced it out, and then it is counted. Each scenario fails on a single lost reading.
/// Every loop is bounded in count and time.
@Suite("Fault suite: nothing lost", .serialized, .timeLimit(.minutes(5)))
struct FaultSuiteTests {
    @Test("1. broker stopped gracefully and restarted while the agent publishes")
    func brokerGracefulRestarts() throws {
        let rig = try FaultRig("fault-restart")
        defer { rig.stop() }
        let agent = try AgentProcess(configPath: rig.config())
        for _ in 0..<3 {
            rig.subscriber.wait(timeout: .seconds(10)) { _ in rig.readings.count >= 10 }
            Thread.sleep(forTimeInterval: 0.7)
            rig.broker.stop()
            Thread.sleep(forTimeInterval: 0.5)
            try rig.broker.start()
        }
        Thread.sleep(forTimeInterval: 1)
        #expect(agent.stop() == 0, "\(agent.log)")
        try rig.drain()
        let tally = rig.tally(upTo: try rig.lastSeq())
        print("fault scenario 1 (3 graceful broker restarts, then one agent restart): \(tally)")
        #expect(tally.missing.isEmpty, "\(tally)\n\(agent.log)")
        #expect(tally.produced > 50)
    }

    @Test("2. broker killed with SIGKILL and restarted", arguments: [true, false])
    func brokerKilled(persistence: Bool) throws {
        let rig = try FaultRig("fault-kill", brokerPersistence: persistence)
        defer { rig.stop() }
        let agent = try AgentProcess(configPath: rig.config())
        for _ in 0..<2 {
            rig.subscriber.wait(timeout: .seconds(10)) { _ in rig.readings.count >= 10 }
            Thread.sleep(forTimeInterval: 0.5)
            // Hold the agent off until the observer is back, so only the agent's guarantee is measured
            // (a killed broker forgets what it had not saved, the observer's session among it).
            rig.proxy.mode = .refuse
            rig.proxy.cutAll()
            let before = rig.subscriberCountInLog()
            rig.broker.kill()
            try rig.broker.start()
            // SIGKILL loses what Mosquitto changed since its last autosave, the observer's session
            // included, so wait until the observer has subscribed again before letting the agent in.
            let deadline = ContinuousClock.now + .seconds(15)
            while rig.subscriberCountInLog() <= before && ContinuousClock.now < deadline {
                Thread.sleep(forTimeInterval: 0.05)
            }
            rig.proxy.mode = .forward
        }
        Thread.sleep(forTimeInterval: 1.5)
        #expect(agent.stop() == 0, "\(agent.log)")
        try rig.drain()
        let tally = rig.tally(upTo: try rig.lastSeq())
        print("fault scenario 2 (broker SIGKILL x2, persistence \(persistence)): \(tally)")
        #expect(tally.missing.isEmpty, "\(tally)\n\(agent.log)")
    }

    @Test("3. agent killed with SIGKILL at random moments and restarted")
    func agentKilled() throws {
        let rig = try FaultRig("fault-agent-kill")
        defer { rig.stop() }
        var generator = SystemRandomNumberGenerator()
        let config = try rig.config(spool: #"fsync = "100ms""#)
        for _ in 0..<5 {
            let agent = try AgentProcess(configPath: config)
            Thread.sleep(forTimeInterval: Double.random(in: 0.3...1.5, using: &generator))
            _ = agent.stop(signal: SIGKILL)
        }
        let last = try AgentProcess(configPath: config)
        Thread.sleep(forTimeInterval: 1.5)
        #expect(last.stop() == 0, "\(last.log)")
        let tally = rig.tally(upTo: try rig.lastSeq())
        print("fault scenario 3 (agent SIGKILL x5): \(tally)")
        #expect(tally.missing.isEmpty, "\(tally)")
    }

    @Test("4. network black hole: the dead connection is found by keep-alive and delivery resumes")
    func blackHole() throws {
        let rig = try FaultRig("fault-blackhole")
        defer { rig.stop() }
        let agent = try AgentProcess(configPath: rig.config())
        rig.subscriber.wait(timeout: .seconds(10)) { _ in rig.readings.count >= 10 }
        rig.proxy.mode = .blackHole
        let start = ContinuousClock.now
        // keepalive = 2 s: a dead link must be declared within 1.5 x keepalive (plus a tick).
        let detected = waitFor(timeout: .seconds(10)) { agent.log.contains("keep-alive timeout") }
        let detectionTime = ContinuousClock.now - start
        #expect(detected, "\(agent.log)")
        #expect(detectionTime < .seconds(5), "detected after \(detectionTime)")
        rig.proxy.mode = .forward
        let reconnected = waitFor(timeout: .seconds(15)) {
            agent.log.components(separatedBy: "MQTT connected").count > 2
        }
        #expect(reconnected, "the agent connects again once the network is back: \(agent.log)")
        Thread.sleep(forTimeInterval: 1)
        #expect(agent.stop() == 0, "\(agent.log)")
        let tally = rig.tally(upTo: try rig.lastSeq())
        print("fault scenario 4 (black hole, detected after \(detectionTime)): \(tally)")
        #expect(tally.missing.isEmpty, "\(tally)")
    }

    @Test("5. broker away longer than the spool holds: drops happen only by policy and are counted exactly")
    func spoolOverflow() throws {
        let rig = try FaultRig("fault-overflow")
        defer { rig.stop() }
        let agent = try AgentProcess(
            configPath: rig.config(toggle: "2ms", spool: "max_bytes = 65536\nwhen_full = \"drop-oldest\"")
        )
        rig.subscriber.wait(timeout: .seconds(10)) { _ in rig.readings.count >= 10 }
        rig.proxy.mode = .refuse
        rig.proxy.cutAll()
        Thread.sleep(forTimeInterval: 4)  // ~2000 readings of ~150 bytes into a 64 KiB spool
        rig.proxy.mode = .forward
        Thread.sleep(forTimeInterval: 2)
        #expect(agent.stop() == 0, "\(agent.log)")
        let last = try rig.lastSeq()
        // The agent's own offline status (with counters), not the broker's Will.
        rig.subscriber.wait(timeout: .seconds(15)) { _ in
            rig.statuses.last.map { $0.state == "offline" && $0.dropped != nil } ?? false
        }
        let dropped = try #require(rig.statuses.last?.dropped, "\(rig.statuses.map(\.state))")
        let tally = rig.tally(upTo: last, timeout: .seconds(10))
        print("fault scenario 5 (spool overflow, drop-oldest): \(tally), dropped by policy \(dropped)")
        #expect(dropped > 0, "the outage must have overflowed the spool")
        #expect(UInt64(tally.missing.count) == dropped, "every missing reading is a counted drop: \(tally)")
    }

    @Test("6. spool files corrupted and truncated between runs: the agent starts, reports, delivers the rest")
    func corruptedSpool() throws {
        let rig = try FaultRig("fault-corrupt")
        defer { rig.stop() }
        rig.proxy.mode = .refuse
        let config = try rig.config(spool: #"fsync = "100ms""#)
        let first = try AgentProcess(configPath: config)
        Thread.sleep(forTimeInterval: 2)
        #expect(first.stop() == 0)
        // Damage one record in the middle and tear the tail.
        let spoolFolder = rig.folder.appendingPathComponent("state-agent/spool")
        let segment = try #require(
            try FileManager.default.contentsOfDirectory(atPath: spoolFolder.path).filter { $0.hasSuffix(".seg") }
                .sorted().last
        )
        let url = spoolFolder.appendingPathComponent(segment)
        var bytes = try [UInt8](Data(contentsOf: url))
        let damagedSeq: UInt64 = 10
        let damageAt = try #require(bytes.firstRange(of: Array("\"seq\":\(damagedSeq),".utf8))?.lowerBound)
        bytes[damageAt + 2] ^= 0x55
        let lastMarker = try #require(bytes.ranges(of: Array("\"seq\":".utf8)).last)
        let tornSeqText = String(
            decoding: bytes[lastMarker.upperBound...].prefix { $0 >= 0x30 && $0 <= 0x39 },
            as: UTF8.self
        )
        let tornSeq = try #require(UInt64(tornSeqText))
        bytes.removeLast(5)
        try Data(bytes).write(to: url)

        rig.proxy.mode = .forward
        let second = try AgentProcess(configPath: config)
        Thread.sleep(forTimeInterval: 2)
        #expect(second.stop() == 0, "\(second.log)")
        #expect(second.log.contains("spool recovered from damage"), "\(second.log)")
        #expect(second.log.contains("torn tail"), "\(second.log)")
        #expect(second.log.contains("damaged bytes skipped"), "\(second.log)")
        let tally = rig.tally(upTo: try rig.lastSeq(), excluding: [damagedSeq, tornSeq])
        print("fault scenario 6 (record \(damagedSeq) damaged, tail record \(tornSeq) torn): \(tally)")
        #expect(Set(tally.missing) == [damagedSeq, tornSeq], "only the damaged records are missing: \(tally)")
    }

    @Test("7. two agents with the same client id back off instead of fighting")
    func duplicateClientID() throws {
        let rig = try FaultRig("fault-dupid")
        defer { rig.stop() }
        let one = try AgentProcess(configPath: rig.config(name: "one", toggle: "200ms", backoffMax: "3s"))
        let two = try AgentProcess(configPath: rig.config(name: "two", toggle: "200ms", backoffMax: "3s"))
        Thread.sleep(forTimeInterval: 12)
        let connections = rig.proxy.acceptedConnections
        #expect(one.child.isRunning && two.child.isRunning, "both stay alive")
        #expect(connections < 40, "a hot loop would make hundreds of connections in 12 s; saw \(connections)")
        let logs = one.log + two.log
        #expect(
            logs.contains("another client connected with client id")
                || logs.contains("another client may be using client id"),
            "the takeover is named in the log"
        )
        print("fault scenario 7 (duplicate client id, 12 s): \(connections) connections")
        #expect(one.stop() == 0)
        #expect(two.stop() == 0)
    }
}

/// Polls `condition` until it holds or `timeout` passes.
func waitFor(timeout: Duration, _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.05)
    }
    return condition()
}

extension FaultRig {
    /// A SIGTERM that finds the agent between reconnects leaves readings in the spool: the next
    /// start delivers them. Starting it once more makes the tally cover that path too.
    func drain() throws {
        let agent = try AgentProcess(configPath: config())
        Thread.sleep(forTimeInterval: 2)
        #expect(agent.stop() == 0, "\(agent.log)")
    }

    /// How many times the broker has logged this rig's subscriber subscribing.
    func subscriberCountInLog() -> Int {
        let log = broker.log
        return log.components(separatedBy: "Received SUBSCRIBE from \(subscriber.clientID)").count - 1
    }
}
