import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The agent (real binary, mutual TLS) against Debian's Mosquitto 2.0.11 at both protocol levels.
@Suite("MQTT interop: Mosquitto", .serialized, .timeLimit(.minutes(3)), .childProcessesEndWithTheTest)
struct MQTTInteropMosquittoTests {
    @Test(
        "connect and QoS 0/1/2 publish: every QoS 1 and 2 reading arrives, QoS 2 exactly once",
        arguments: ["3.1.1", "5"]
    )
    func qosLevels(protocolVersion: String) async throws {
        let folder = try Repository.temporaryFolder("interop-mosq-qos")
        let pki = try await TestPKI(in: folder)
        let broker = try await TestBroker(pki: pki)
        let run = InteropRun(folder: folder, device: try await pki.device("dev-0001"))
        let subscriber = try await Subscriber(broker: broker, persistentSession: "interop-watcher", qos: 2)
        defer { subscriber.stop() }
        let agent = try AgentProcess(configPath: run.config(port: broker.port, protocolVersion: protocolVersion))
        try await run.checkQoSLevels(agent: agent, subscriber: subscriber)
        await broker.stop()
    }

    @Test(
        "persistent session resumed after graceful broker restarts: QoS 1 at least once, QoS 2 exactly once",
        arguments: ["3.1.1", "5"]
    )
    func resumeAfterRestart(protocolVersion: String) async throws {
        let folder = try Repository.temporaryFolder("interop-mosq-resume")
        let pki = try await TestPKI(in: folder)
        let broker = try await TestBroker(pki: pki, persistence: true)
        let run = InteropRun(folder: folder, device: try await pki.device("dev-0001"))
        // Two persistent observers: QoS 1 shows every reading reached the broker (its PUBLISH/PUBACK state survives
        // mosquitto_sub being restarted with the broker), QoS 2 shows none was delivered twice. A QoS 2 observer
        // alone cannot prove completeness: mosquitto_sub keeps no state on disk, so a message it had PUBREC'd
        // when the broker went down is lost with that mosquitto_sub process, not by the agent.
        let complete = try await Subscriber(broker: broker, persistentSession: "interop-q1", qos: 1)
        let once = try await Subscriber(broker: broker, persistentSession: "interop-q2", qos: 2)
        // The agent reaches the broker through a gate, to quiet the observers' side before each stop (see below).
        let gate = try TCPProxy(upstreamPort: broker.port)
        defer {
            complete.stop()
            once.stop()
            gate.stop()
        }
        let agent = try AgentProcess(
            configPath: run.config(
                port: gate.port,
                protocolVersion: protocolVersion,
                toggle: "15ms",
                qos: [1, 2]
            )
        )
        for restart in 0..<3 {
            // Each stop finds the agent connected (after the first, to a session it resumed) and publishing: a reading
            // it takes from now on reaches the observer.
            #expect(
                try await waitFor { run.connections(agent.log, sessionPresent: true) >= restart },
                "session resumed before restart \(restart + 1): \(agent.events.suffix(3000))"
            )
            #expect(
                try await run.freshReading(at: complete, after: agent.newestSeq),
                "publishing before restart \(restart + 1): \(agent.events.suffix(3000))"
            )
            // Mosquitto 2.0.11 stopped before a subscriber's PUBCOMP arrived sends that QoS 2 message again as a
            // PUBLISH after its restart, although it had sent PUBREL ([MQTT-4.3.3-1] 3.1.1, [MQTT-4.3.3-6] 5.0; seen in its log: PUBREC,
            // PUBREL, stop, then "Sending PUBLISH (d1, q2, ... m115"), and mosquitto_sub prints it a second time:
            // 72 of 196 readings once, all the broker's doing. So the agent's bytes are held (its connection stays
            // up, its readings wait), and a QoS 2 marker reaching the observer shows every message to it completed,
            // before the stop. What the agent sent and had not finished is still in flight on its own side.
            try await gate.set(.hold)
            #expect(
                try await broker.mark(for: once, as: run.device, id: run.deviceID),
                "the QoS 2 observer caught up before restart \(restart + 1): \(once.output.suffix(500))"
            )
            let losses = agent.count("reconnecting")
            await broker.stop()
            // The agent lives through the outage: it notices the lost connection before the broker comes back.
            #expect(
                try await waitFor { agent.count("reconnecting") > losses },
                "the agent noticed the outage: \(agent.events.suffix(2000))"
            )
            try await broker.start()
            try await gate.set(.forward)
        }
        #expect(
            try await waitFor { run.connections(agent.log, sessionPresent: true) >= 3 },
            "session resumed after the last restart: \(agent.events.suffix(3000))"
        )
        #expect(
            try await run.freshReading(at: complete, after: agent.newestSeq),
            "publishing after the last restart: \(agent.events.suffix(3000))"
        )
        #expect(await agent.stop() == 0, "\(agent.log)")
        let last = try run.lastSeq()
        let messages = try await complete.wait(timeout: .seconds(60)) { messages in
            Set(["q1", "q2"].flatMap { run.readings(messages, sensor: $0).map(\.seq) }) == Set(1...last)
        }
        let q1 = run.readings(messages, sensor: "q1").map(\.seq)
        let missing = Set(1...last).subtracting(q1 + run.readings(messages, sensor: "q2").map(\.seq)).sorted()
        #expect(missing.isEmpty, "missing \(missing.prefix(20)) of \(last)")
        // Mosquitto refuses a PUBLISH beyond its incoming quota (max_inflight_messages, 20) with reason 0x97 (151)
        // and, to a 3.1.1 client, sends that as a plain PUBACK: the reading is gone while the agent counts it as
        // delivered. The agent's broker.max_inflight (default 20) must keep it below that quota after every resume.
        let brokerLog = broker.log
        let refused = brokerLog.split(separator: "\n").filter { $0.contains("to dev-0001") && $0.contains("rc151") }
        #expect(refused.isEmpty, "Mosquitto refused readings over its quota: \(refused.prefix(3))")
        #expect(run.protocolViolations(agent.log).isEmpty, "\(run.protocolViolations(agent.log).prefix(3))")
        // Everything queued for the QoS 2 observer has reached it once a marker published after the agent stopped
        // has (the broker delivers to a subscriber in order).
        #expect(
            try await broker.mark(for: once, as: run.device, id: run.deviceID),
            "the QoS 2 observer caught up: \(once.output.suffix(500))"
        )
        let q2 = run.readings(once.messages, sensor: "q2").map(\.seq)
        #expect(q2.count > 100)
        #expect(
            Set(q2).count == q2.count,
            "QoS 2 delivered twice: \(Dictionary(grouping: q2, by: { $0 }).filter { $1.count > 1 }.keys.sorted())"
        )
        let resumed = run.connections(agent.log, sessionPresent: true)
        print(
            "interop mosquitto \(protocolVersion) restarts: produced \(last), q1 \(q1.count) (\(q1.count - Set(q1).count) dup), q2 \(q2.count), resumed sessions \(resumed)"
        )
        #expect(resumed >= 3, "the agent resumed its session after each restart: \(agent.events.suffix(3000))")
    }

    @Test(
        "duplicate client id: the broker drops the older connection, the agent names it, backs off and loses nothing",
        arguments: ["3.1.1", "5"]
    )
    func takeover(protocolVersion: String) async throws {
        let folder = try Repository.temporaryFolder("interop-mosq-takeover")
        let pki = try await TestPKI(in: folder)
        let broker = try await TestBroker(pki: pki)
        let run = InteropRun(folder: folder, device: try await pki.device("dev-0001"))
        let subscriber = try await Subscriber(broker: broker, persistentSession: "interop-watcher", qos: 2)
        defer { subscriber.stop() }
        let agent = try AgentProcess(
            configPath: run.config(port: broker.port, protocolVersion: protocolVersion, qos: [1])
        )
        try await run.checkTakeover(
            agent: agent,
            subscriber: subscriber,
            port: broker.port,
            protocolVersion: protocolVersion
        )
        await broker.stop()
    }

}
