import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 7's promise, under fire: a reading that was taken is delivered unless the spool limit
/// forced it out, and then it is counted. Each scenario fails on a single lost reading.
/// Every loop is bounded in count and time.
@Suite("Fault suite: nothing lost", .serialized, .timeLimit(.minutes(5)), .childProcessesEndWithTheTest)
struct FaultSuiteTests {
    @Test("1. broker stopped gracefully and restarted while the agent publishes")
    func brokerGracefulRestarts() async throws {
        let rig = try await FaultRig("fault-restart")
        defer { rig.stop() }
        let agent = try AgentProcess(configPath: rig.config())
        for restart in 1...3 {
            // Each stop finds the agent connected and publishing: a reading taken from now on arrives.
            #expect(
                try await rig.waitForDelivery(after: agent.newestSeq),
                "publishing before restart \(restart): \(agent.events.suffix(2000))"
            )
            await rig.broker.stop()
            // The outage is one the agent lives through: it tries to connect while the broker is down.
            let attempts = rig.proxy.acceptedConnections
            #expect(
                try await waitFor { rig.proxy.acceptedConnections > attempts },
                "a connection attempt during outage \(restart): \(agent.events.suffix(2000))"
            )
            try await rig.broker.start()
        }
        #expect(
            try await rig.waitForDelivery(after: agent.newestSeq),
            "delivery resumes after the last restart: \(agent.events.suffix(2000))"
        )
        #expect(await agent.stop() == 0, "\(agent.log)")
        try await rig.drain()
        let tally = try await rig.tally(upTo: try rig.lastSeq())
        print("fault scenario 1 (3 graceful broker restarts, then one agent restart): \(tally)")
        #expect(tally.missing.isEmpty, "\(tally)\n\(agent.log)")
        #expect(tally.produced > 50)
    }

    @Test("2. broker killed with SIGKILL and restarted", arguments: [true, false])
    func brokerKilled(persistence: Bool) async throws {
        let rig = try await FaultRig("fault-kill", brokerPersistence: persistence)
        defer { rig.stop() }
        let agent = try AgentProcess(configPath: rig.config())
        for kill in 1...2 {
            // Each kill finds the agent connected and publishing: a reading taken from now on arrives.
            #expect(
                try await rig.waitForDelivery(after: agent.newestSeq),
                "publishing before kill \(kill): \(agent.events.suffix(2000))"
            )
            // Hold the agent off until the observer is back, so only the agent's guarantee is measured
            // (a killed broker forgets what it had not saved, the observer's session among it).
            try await rig.proxy.set(.refuse)
            try await rig.proxy.cutAll()
            let before = rig.subscriberCountInLog()
            rig.broker.kill()
            try await rig.broker.start()
            // SIGKILL loses what Mosquitto changed since its last autosave, the observer's session
            // included, so wait until the observer has subscribed again before letting the agent in.
            #expect(
                try await waitFor { rig.subscriberCountInLog() > before },
                "the observer subscribed again after kill \(kill): \(rig.broker.log.suffix(2000))"
            )
            try await rig.proxy.set(.forward)
        }
        #expect(
            try await rig.waitForDelivery(after: agent.newestSeq),
            "delivery resumes after the last kill: \(agent.events.suffix(2000))"
        )
        #expect(await agent.stop() == 0, "\(agent.log)")
        try await rig.drain()
        let tally = try await rig.tally(upTo: try rig.lastSeq())
        print("fault scenario 2 (broker SIGKILL x2, persistence \(persistence)): \(tally)")
        #expect(tally.missing.isEmpty, "\(tally)\n\(agent.log)")
    }

    @Test("3. agent killed with SIGKILL at random moments and restarted")
    func agentKilled() async throws {
        let rig = try await FaultRig("fault-agent-kill")
        defer { rig.stop() }
        var generator = SystemRandomNumberGenerator()
        let config = try rig.config(spool: #"fsync = "100ms""#)
        var newest: UInt64 = 0
        for run in 1...5 {
            let agent = try AgentProcess(configPath: config)
            if run < 5 {
                // A random moment while the agent publishes: after its first reading of this run.
                #expect(try await waitFor { agent.newestSeq > newest }, "run \(run) takes readings: \(agent.events)")
                try await Task.sleep(for: .milliseconds(Int.random(in: 0...1200, using: &generator)))
            } else {
                // And one during start-up (spool recovery, session restore, first connection).
                try await Task.sleep(for: .milliseconds(Int.random(in: 0...300, using: &generator)))
            }
            _ = await agent.stop(signal: SIGKILL)
            newest = max(newest, agent.newestSeq)
        }
        let last = try AgentProcess(configPath: config)
        // Readings leave the spool in seq order: one taken by this run arriving means the backlog went first.
        #expect(try await rig.waitForDelivery(after: newest), "the last run delivers: \(last.events.suffix(2000))")
        #expect(await last.stop() == 0, "\(last.log)")
        let tally = try await rig.tally(upTo: try rig.lastSeq())
        print("fault scenario 3 (agent SIGKILL x5): \(tally)")
        #expect(tally.missing.isEmpty, "\(tally)")
    }

    @Test("4. network black hole: the dead connection is found by keep-alive and delivery resumes")
    func blackHole() async throws {
        let rig = try await FaultRig("fault-blackhole")
        defer { rig.stop() }
        let agent = try AgentProcess(configPath: rig.config())
        #expect(try await rig.waitForDelivery(after: 9), "\(agent.events.suffix(2000))")
        let start = Date()
        try await rig.proxy.set(.blackHole)
        #expect(
            try await waitFor { agent.log.contains("keep-alive timeout") },
            "the dead connection is found: \(agent.events.suffix(3000))"
        )
        // keepalive = 2 s: a dead link must be declared within 1.5 x keepalive (plus a tick). Timed by the agent's
        // own log line, so the test's polling and scheduling add nothing; `start` was taken before the switch.
        let detected = try #require(agent.loggedAt("keep-alive timeout"), "\(agent.events.suffix(3000))")
        let detectionTime = detected.timeIntervalSince(start)
        #expect(detectionTime < 5, "detected after \(detectionTime) s")
        try await rig.proxy.set(.forward)
        #expect(
            try await waitFor { agent.count("MQTT connected") >= 2 },
            "the agent connects again once the network is back: \(agent.events.suffix(3000))"
        )
        #expect(
            try await rig.waitForDelivery(after: agent.newestSeq),
            "delivery resumes after the black hole: \(agent.events.suffix(2000))"
        )
        #expect(await agent.stop() == 0, "\(agent.log)")
        let tally = try await rig.tally(upTo: try rig.lastSeq())
        print("fault scenario 4 (black hole, detected after \(detectionTime) s): \(tally)")
        #expect(tally.missing.isEmpty, "\(tally)")
    }

    @Test("5. broker away longer than the spool holds: drops happen only by policy and are counted exactly")
    func spoolOverflow() async throws {
        let rig = try await FaultRig("fault-overflow")
        defer { rig.stop() }
        let agent = try AgentProcess(
            configPath: rig.config(toggle: "2ms", spool: "max_bytes = 65536\nwhen_full = \"drop-oldest\"")
        )
        #expect(try await rig.waitForDelivery(after: 9), "\(agent.events.suffix(2000))")
        try await rig.proxy.set(.refuse)
        try await rig.proxy.cutAll()
        // The outage lasts until the spool has overflowed: its own statistics (the ack file, checkpointed every
        // second while the agent runs) count a drop. Readings of ~150 bytes at 500/s fill 64 KiB in about a second.
        #expect(
            try await waitFor(timeout: .seconds(60)) { rig.droppedInSpool() > 0 },
            "the outage overflowed the spool: \(agent.events.suffix(2000))"
        )
        let newest = agent.newestSeq
        try await rig.proxy.set(.forward)
        // Delivery resumes and the backlog is out: a reading taken after the outage arrives.
        #expect(
            try await rig.waitForDelivery(after: newest),
            "delivery resumes after the outage: \(agent.events.suffix(2000))"
        )
        #expect(await agent.stop() == 0, "\(agent.log)")
        let last = try rig.lastSeq()
        // The agent's own offline status (with counters), not the broker's Will.
        try await rig.subscriber.wait { messages in
            FaultRig.statuses(in: messages).last.map { $0.state == "offline" && $0.dropped != nil } ?? false
        }
        let dropped = try #require(rig.statuses.last?.dropped, "\(rig.statuses.map(\.state))")
        let tally = try await rig.tally(upTo: last, timeout: .seconds(10))
        print("fault scenario 5 (spool overflow, drop-oldest): \(tally), dropped by policy \(dropped)")
        #expect(dropped > 0, "the outage must have overflowed the spool")
        #expect(UInt64(tally.missing.count) == dropped, "every missing reading is a counted drop: \(tally)")
    }

    @Test("6. spool files corrupted and truncated between runs: the agent starts, reports, delivers the rest")
    func corruptedSpool() async throws {
        let rig = try await FaultRig("fault-corrupt")
        defer { rig.stop() }
        try await rig.proxy.set(.refuse)
        let config = try rig.config(spool: #"fsync = "100ms""#)
        let first = try AgentProcess(configPath: config)
        // Enough readings on disk for the damage below: seq 10 in the middle, many after it.
        #expect(try await waitFor { first.newestSeq >= 50 }, "\(first.events)")
        #expect(await first.stop() == 0)
        let firstLast = try rig.lastSeq()
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

        try await rig.proxy.set(.forward)
        let second = try AgentProcess(configPath: config)
        // Readings leave the spool in seq order: one taken by this run arriving means the rest went first.
        #expect(
            try await rig.waitForDelivery(after: firstLast),
            "the second run delivers: \(second.events.suffix(2000))"
        )
        #expect(await second.stop() == 0, "\(second.log)")
        #expect(second.log.contains("spool recovered from damage"), "\(second.log)")
        #expect(second.log.contains("torn tail"), "\(second.log)")
        #expect(second.log.contains("damaged bytes skipped"), "\(second.log)")
        let tally = try await rig.tally(upTo: try rig.lastSeq(), excluding: [damagedSeq, tornSeq])
        print("fault scenario 6 (record \(damagedSeq) damaged, tail record \(tornSeq) torn): \(tally)")
        #expect(Set(tally.missing) == [damagedSeq, tornSeq], "only the damaged records are missing: \(tally)")
    }

    @Test("7. two agents with the same client id back off instead of fighting")
    func duplicateClientID() async throws {
        let rig = try await FaultRig("fault-dupid")
        defer { rig.stop() }
        let started = ContinuousClock.now
        let one = try AgentProcess(configPath: rig.config(name: "one", toggle: "200ms", backoffMax: "3s"))
        let two = try AgentProcess(configPath: rig.config(name: "two", toggle: "200ms", backoffMax: "3s"))
        // The fight is on once the takeover is named in a log.
        #expect(
            try await waitFor(timeout: .seconds(60)) {
                let logs = one.log + two.log
                return logs.contains("another client connected with client id")
                    || logs.contains("another client may be using client id")
            },
            "the takeover is named in the log: \(one.events.suffix(1500))\n\(two.events.suffix(1500))"
        )
        // The rate of connection attempts over at least 12 s: a hot loop makes hundreds of connections in 12 s, the
        // back-off (200 ms doubling to 3 s, two agents) a couple of dozen. The bound scales with the time observed,
        // so a slow machine (or a late wake-up of this test) cannot fail it.
        let window = Duration.seconds(12)
        let observed = ContinuousClock.now - started
        if observed < window { try await Task.sleep(for: window - observed) }
        let elapsed = ContinuousClock.now - started
        let connections = rig.proxy.acceptedConnections
        let bound = 40 * max(1, elapsed / window)
        #expect(one.child.isRunning && two.child.isRunning, "both stay alive")
        #expect(
            Double(connections) < bound,
            "a hot loop would make hundreds of connections in 12 s; saw \(connections) in \(elapsed)"
        )
        print("fault scenario 7 (duplicate client id, \(elapsed)): \(connections) connections")
        #expect(await one.stop() == 0)
        #expect(await two.stop() == 0)
    }
}

extension FaultRig {
    /// A SIGTERM that finds the agent between reconnects leaves readings in the spool: the next
    /// start delivers them. Starting it once more makes the tally cover that path too.
    func drain() async throws {
        let before = try lastSeq()
        let agent = try AgentProcess(configPath: config())
        // Readings leave the spool in seq order: one taken by this run arriving means the backlog went first.
        #expect(try await waitForDelivery(after: before), "the drain run delivers: \(agent.events.suffix(2000))")
        #expect(await agent.stop() == 0, "\(agent.log)")
    }

    /// How many times the broker has logged this rig's subscriber subscribing.
    func subscriberCountInLog() -> Int {
        let log = broker.log
        return log.components(separatedBy: "Received SUBSCRIBE from \(subscriber.clientID)").count - 1
    }
}
