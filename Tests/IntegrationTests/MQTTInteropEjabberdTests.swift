import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The agent (real binary, mutual TLS) against a second MQTT broker implementation: ejabberd 23.01's
/// `mod_mqtt` from Debian 12, at both protocol levels. ejabberd requires and verifies the client certificate
/// and authenticates the agent by it (see `EjabberdBroker`), so the agent's mutual TLS is exercised for real.
@Suite(
    "MQTT interop: ejabberd",
    .serialized,
    .timeLimit(.minutes(5)),
    .childProcessesEndWithTheTest,
    .enabled(
        if: EjabberdBroker.isInstalled,
        "ejabberd is not installed; board/dev/install-deps installs it (apt-get install ejabberd)"
    )
)
struct MQTTInteropEjabberdTests {
    @Test(
        "connect with a client certificate and QoS 0/1/2 publish: every reading arrives, QoS 2 exactly once",
        arguments: ["3.1.1", "5"]
    )
    func qosLevels(protocolVersion: String) async throws {
        let folder = try Repository.temporaryFolder("interop-ejabberd-qos")
        let pki = try await TestPKI(in: folder)
        let broker = try await EjabberdBroker(pki: pki)
        let run = InteropRun(folder: folder, device: try await pki.device("dev-0001"))
        // The certificate is really required: without one ejabberd refuses the same client id.
        let anonymous = try await Command.run(
            "/usr/bin/mosquitto_pub",
            [
                "-h", "localhost", "-p", "\(broker.port)", "-V", protocolVersion == "5" ? "5" : "mqttv311",
                "--cafile", pki.caCertificate, "-i", run.deviceID, "-t", "devices/\(run.deviceID)/x", "-m", "x",
            ],
            timeout: .seconds(20)
        )
        #expect(anonymous.status != 0, "a client without a certificate was let in: \(anonymous.output)")
        let subscriber = try await Subscriber(ejabberd: broker, clientID: "interop-watcher", qos: 2)
        defer { subscriber.stop() }
        let agent = try AgentProcess(configPath: run.config(port: broker.port, protocolVersion: protocolVersion))
        try await run.checkQoSLevels(agent: agent, subscriber: subscriber)
        #expect(
            try await waitFor(timeout: .seconds(30)) {
                broker.log.contains(
                    "Accepted MQTT authentication for \(run.deviceID)@localhost/\(run.deviceID) by pkix backend"
                )
            },
            "the agent was authenticated by its certificate: \(broker.log.suffix(2000))"
        )
    }

    /// ejabberd keeps sessions only in memory, so this is the Session Present=0 path: after each graceful
    /// restart the agent (Clean Start 0) is told there is no session, voids its own and sends every unfinished
    /// QoS 1/2 reading again as a new message, ahead of what it spooled while the broker was down.
    ///
    /// The agent reaches ejabberd through a gate (a `TCPProxy`), for two losses that are ejabberd's by design
    /// and would otherwise make this test fail at random:
    /// - A subscriber's queue is lost with its session. ejabberd has one QoS 1/2 message in flight per
    ///   subscriber, so after a reconnect the agent's backlog is acknowledged to the agent long before it has
    ///   reached the observers; a stop then drops the rest. So before each stop the gate holds the agent's bytes
    ///   (its connection stays up, unacknowledged readings pile up) until a probe shows the observers caught up.
    /// - The observers' sessions are lost too: a reading sent before they subscribe again reaches nobody. So the
    ///   gate refuses connections from the stop until a probe reaches both observers through the new broker.
    /// The agent's own connection is closed by ejabberd's stop (no DISCONNECT, no TLS close_notify), with
    /// readings unacknowledged, as in any graceful restart. The hold also means every QoS 2 reading ejabberd
    /// took was PUBREC'd to the agent before the stop, so a reading the QoS 2 observer gets twice was sent
    /// twice by the agent, not lost in ejabberd's shutdown.
    @Test(
        "graceful broker restarts (sessions lost): Session Present=0, the agent republishes, every reading arrives",
        arguments: ["3.1.1", "5"]
    )
    func restarts(protocolVersion: String) async throws {
        let folder = try Repository.temporaryFolder("interop-ejabberd-restart")
        let pki = try await TestPKI(in: folder)
        let broker = try await EjabberdBroker(pki: pki)
        let run = InteropRun(folder: folder, device: try await pki.device("dev-0001"))
        // QoS 1 shows completeness, QoS 2 shows what was delivered twice.
        let complete = try await Subscriber(ejabberd: broker, clientID: "interop-q1", qos: 1)
        let once = try await Subscriber(ejabberd: broker, clientID: "interop-q2", qos: 2)
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
                toggle: "20ms",
                qos: [1, 2]
            )
        )
        let restarts = 2
        for restart in 1...restarts {
            // The agent is connected (again) before the next stop.
            #expect(
                try await waitFor(timeout: .seconds(60)) {
                    run.connections(agent.log, sessionPresent: false) >= restart
                },
                "connection \(restart): \(agent.events.suffix(3000))"
            )
            // Readings flow on this connection before it is held: one taken from now on reaches the observer.
            let newest = agent.newestSeq
            #expect(
                try await run.freshReading(at: complete, after: newest),
                "publishing on connection \(restart): \(agent.events.suffix(3000))"
            )
            // Returns once the agent's connection is held: none of its bytes reach the broker from here on.
            try await gate.set(.hold)
            #expect(try await broker.awaitDelivery(to: [complete, once]), "the observers caught up before the stop")
            // Stop the broker while the agent's bytes are still held: switching the gate first would release
            // them into a broker that acknowledges and then drops them as it shuts down.
            await broker.stop()
            try await gate.set(.refuse)
            // The agent's connection ends with the broker, as it would without the gate in between.
            try await gate.cutAll()
            try await broker.start()
            #expect(
                try await broker.awaitDelivery(to: [complete, once]),
                "the observers subscribed again: \(complete.output.suffix(1000)) \(once.output.suffix(1000))"
            )
            try await gate.set(.forward)
        }
        #expect(
            try await waitFor(timeout: .seconds(60)) {
                run.connections(agent.log, sessionPresent: false) >= 1 + restarts
            },
            "the agent connected again after the last restart: \(agent.events.suffix(3000))"
        )
        // The backlog of the outages drains before the agent stops: what a stopped agent still holds in its spool
        // is kept, not lost, but this test is about delivery. ejabberd passes one message at a time to each
        // subscriber, so on a loaded machine that takes a while.
        let produced = max(agent.newestSeq, 1)
        try await complete.wait(timeout: .seconds(90)) { messages in
            Set(["q1", "q2"].flatMap { run.readings(messages, sensor: $0).map(\.seq) }).isSuperset(
                of: Set(1...produced)
            )
        }
        #expect(await agent.stop() == 0, "\(agent.events)")
        let last = try run.lastSeq()
        let messages = try await complete.wait(timeout: .seconds(30)) { messages in
            Set(["q1", "q2"].flatMap { run.readings(messages, sensor: $0).map(\.seq) }) == Set(1...last)
        }
        let seen = Set(["q1", "q2"].flatMap { run.readings(messages, sensor: $0).map(\.seq) })
        let missing = Set(1...last).subtracting(seen).sorted()
        #expect(missing.isEmpty, "missing \(missing.prefix(20)) of \(last): \(agent.events.suffix(3000))")
        let q2Sent = Set(run.readings(messages, sensor: "q2").map(\.seq))
        let q2 = run.readings(
            try await once.wait { Set(run.readings($0, sensor: "q2").map(\.seq)).isSuperset(of: q2Sent) },
            sensor: "q2"
        ).map(\.seq)
        let twice = Dictionary(grouping: q2, by: { $0 }).filter { $1.count > 1 }.keys.sorted()
        let fresh = run.connections(agent.log, sessionPresent: false)
        print(
            "interop ejabberd \(protocolVersion) restarts: produced \(last), seen \(seen.count), q2 \(q2.count) (twice: \(twice)), connections without session \(fresh)"
        )
        // By design, not a defect: when the broker lost the session (Session Present=0) the agent republishes every
        // unfinished reading as a new message, QoS 2 ones whose PUBREC had arrived included ([MQTT-3.2.2-5]; the issue
        // asks for it). A broker that forwards on PUBREL (Mosquitto) would otherwise lose them; ejabberd forwards on
        // PUBLISH, so those few arrive twice, and subscribers drop them by `seq`. Bounded: never more than twice, and
        // at most one in-flight window (broker.max_inflight, 20) per lost session.
        let counts = Dictionary(grouping: q2, by: { $0 }).mapValues(\.count)
        #expect(
            counts.values.allSatisfy { $0 <= 2 },
            "a QoS 2 reading arrived more than twice: \(counts.filter { $1 > 2 })"
        )
        #expect(twice.count <= restarts * 20, "more QoS 2 duplicates than one in-flight window per restart: \(twice)")
        #expect(q2.count > 50)
        #expect(run.protocolViolations(agent.log).isEmpty, "\(run.protocolViolations(agent.log).prefix(3))")
        #expect(
            fresh >= 1 + restarts,
            "after each restart the agent was told Session Present=0: \(agent.events.suffix(3000))"
        )
        #expect(!agent.log.contains("session_present=true"), "ejabberd never resumes a session across its restart")
        await broker.stop()
    }

    /// ejabberd hands the session to the newest connection with the same user and client id: the older one is
    /// closed (MQTT 5: DISCONNECT 0x8E "session taken over"; 3.1.1: the socket is closed). The impostor uses
    /// the device's own certificate, so it really is the same identity.
    @Test(
        "duplicate client id: ejabberd drops the older connection, the agent names it, backs off and loses nothing",
        arguments: ["3.1.1", "5"]
    )
    func takeover(protocolVersion: String) async throws {
        let folder = try Repository.temporaryFolder("interop-ejabberd-takeover")
        let pki = try await TestPKI(in: folder)
        let broker = try await EjabberdBroker(pki: pki)
        let run = InteropRun(folder: folder, device: try await pki.device("dev-0001"))
        let subscriber = try await Subscriber(ejabberd: broker, clientID: "interop-watcher", qos: 2)
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
        // "Opened MQTT session for …" or, taking over the previous connection's state, "Reopened MQTT session via <pid> for …".
        // ejabberd writes its log file behind the events (CI read it once before the lines were there): wait for them.
        func sessions() -> Int {
            broker.log.split(separator: "\n").filter {
                $0.contains("pened MQTT session") && $0.contains(" for \(run.deviceID)@localhost/\(run.deviceID) from ")
            }.count
        }
        #expect(
            try await waitFor(timeout: .seconds(30)) { sessions() >= 4 },
            "ejabberd opened a session for each connection with the device's id: \(broker.log.suffix(3000))"
        )
    }
}
