import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The two-way device against a real Mosquitto with the ACL from `provisioning/mosquitto-conf` (`--operator`):
/// commands from an operator identity, replies at `mosquitto_rr`, the broker refusing a device that commands
/// another, duplicates and expired commands not applied, a config with an error refused while readings go on.
@Suite("Two-way device against a real Mosquitto", .serialized, .timeLimit(.minutes(3)), .childProcessesEndWithTheTest)
struct TwoWayIntegrationTests {
    static let relay = """
        [[output]]
        name = "relay"
        chip = "gpiochip0"
        line = 22

        [[sensor]]
        name = "door"
        type = "digital"
        chip = "gpiochip0"
        line = 17
        simulate = "toggle:100ms"
        """

    struct Rig {
        let folder: URL
        let broker: TestBroker
        let operatorClient: Operator
        var config: AgentConfig
        let path: String

        init(
            _ name: String,
            protocolVersion: String = "5",
            aclOptions: [String] = [],
            sensors: String = relay
        )
            async throws
        {
            folder = try Repository.temporaryFolder(name)
            let pki = try await TestPKI(in: folder)
            broker = try await TestBroker(pki: pki, aclOptions: ["--operator", Operator.id] + aclOptions)
            operatorClient = try await Operator(broker: broker)
            config = AgentConfig(
                deviceID: "dev-0001",
                identity: try await pki.device("dev-0001"),
                port: broker.port,
                protocolVersion: protocolVersion
            )
            config.sensors = sensors
            path = try config.write(to: folder)
        }

        /// Starts the agent and waits until its command subscription is in place.
        func start(subscriptions: Int = 1) async throws -> AgentProcess {
            let agent = try AgentProcess(configPath: path)
            guard try await AgentProcess.waitUntilSubscribed(broker, device: "dev-0001", count: subscriptions) else {
                throw HarnessError("the agent did not subscribe to its commands: \(agent.events)")
            }
            return agent
        }

        /// `pinpost sim show` of the running agent: "relay on transitions=1".
        func show() async throws -> String {
            try await Command.check(try Repository.agentBinary, ["sim", "show", "--config", path])
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    @Test(arguments: ["5", "3.1.1"])
    func anOperatorSwitchesAnOutputAndTheReplyReachesMosquittoRR(protocolVersion: String) async throws {
        let rig = try await Rig("twoway-rr", protocolVersion: protocolVersion)
        let states = try await Subscriber(broker: rig.broker, topic: "devices/dev-0001/outputs/#")
        let agent = try await rig.start()
        // The initial state is published retained.
        let initial = try await states.wait { $0.contains { json($0.payload)["cause"] as? String == "initial" } }
        #expect(initial.first.map { json($0.payload)["state"] as? String } == "off", "\(agent.events)")

        // MQTT 5: the reply goes to the Response Topic mosquitto_rr chose; 3.1.1: to devices/<id>/replies.
        let reply = try await rig.operatorClient.request(
            #"{"id":"c-1","command":"set_output","output":"relay","value":"on"}"#,
            device: "dev-0001",
            responseTopic: protocolVersion == "5" ? nil : "devices/dev-0001/replies"
        )
        #expect(reply["id"] as? String == "c-1")
        #expect(reply["ok"] as? Bool == true, "\(reply)")
        #expect(reply["state"] as? String == "on" && reply["previous"] as? String == "off")
        #expect(try await rig.show() == "relay on transitions=1")
        let switched = try await states.wait { $0.contains { json($0.payload)["cause"] as? String == "command" } }
        let last = json(switched.last?.payload ?? "")
        #expect(last["state"] as? String == "on" && last["transitions"] as? Int == 1)

        let malformed = try await rig.operatorClient.request(
            #"{"id":"c-2","command":"set_output","output":"relay","value":"dim"}"#,
            device: "dev-0001",
            responseTopic: protocolVersion == "5" ? nil : "devices/dev-0001/replies"
        )
        let error = malformed["error"] as? [String: Any]
        #expect(malformed["ok"] as? Bool == false)
        #expect(error?["code"] as? String == "bad_value" && error?["field"] as? String == "value", "\(malformed)")

        // SIGTERM: the safe state is driven and published before the agent leaves.
        #expect(await agent.stop() == 0, "\(agent.events)")
        let stopped = try await states.wait { $0.contains { json($0.payload)["cause"] as? String == "safe_state" } }
        #expect(stopped.last.map { json($0.payload)["state"] as? String } == "off")
        // The device subscribed to nothing but its own commands.
        let filters = rig.broker.log.split(separator: "\n").filter {
            $0.contains("dev-0001 1 ") || $0.contains("dev-0001 0 ")
        }
        #expect(!filters.isEmpty && filters.allSatisfy { $0.hasSuffix(" devices/dev-0001/commands/#") }, "\(filters)")
        states.stop()
        await rig.broker.stop()
    }

    @Test func aDeviceCannotCommandAnotherDevice() async throws {
        let rig = try await Rig("twoway-acl")
        let agent = try await rig.start()
        let intruder = try await rig.broker.pki.device("dev-0002")
        let result = try await rig.operatorClient.publish(
            #"{"id":"evil","command":"set_output","output":"relay","value":"on"}"#,
            topic: "devices/dev-0001/commands",
            as: intruder
        )
        #expect(result.output.contains("RC:135"), "the broker answers Not authorized: \(result.output)")
        #expect(rig.broker.log.contains("Denied PUBLISH from"))
        // A command the operator sends afterwards arrives, so the first one would have arrived by then too.
        let ping = try await rig.operatorClient.request(#"{"id":"p","command":"ping"}"#, device: "dev-0001")
        #expect(ping["pong"] as? Bool == true)
        #expect(try await rig.show() == "relay off transitions=0")
        #expect(!agent.log.contains("evil"), "the agent never saw the intruder's command")
        #expect(await agent.stop() == 0)
        await rig.broker.stop()
    }

    /// Every command toggles, so an extra application would show in the transition count.
    @Test func duplicateAndExpiredCommandsAreNotApplied() async throws {
        let rig = try await Rig("twoway-once")
        let replies = try await Subscriber(broker: rig.broker, topic: "devices/dev-0001/replies/#")
        func toggle(_ id: String, _ extra: String = "") -> String {
            #"{"id":"\#(id)","command":"set_output","output":"relay","value":"toggle"\#(extra)}"#
        }
        func reply(_ id: String) async throws -> [String: Any] {
            let messages = try await replies.wait { $0.contains { json($0.payload)["id"] as? String == id } }
            return messages.last { json($0.payload)["id"] as? String == id }.map { json($0.payload) } ?? [:]
        }
        var agent = try await rig.start()
        var sent = 0
        try await rig.operatorClient.publish(toggle("t-1"), topic: "devices/dev-0001/commands")
        sent += 1
        #expect(try await reply("t-1")["ok"] as? Bool == true)
        // The same command again (a QoS 1 redelivery looks the same to the agent): not applied.
        try await rig.operatorClient.publish(toggle("t-1"), topic: "devices/dev-0001/commands")
        sent += 1
        try await replies.wait { $0.filter { json($0.payload)["id"] as? String == "t-1" }.count >= 2 }
        let duplicate = replies.messages.filter { json($0.payload)["id"] as? String == "t-1" }.last.map {
            json($0.payload)
        }
        #expect(duplicate?["duplicate"] as? Bool == true, "\(String(describing: duplicate))")
        #expect(try await rig.show() == "relay on transitions=1")
        // Past its `expires`: refused, not applied.
        try await rig.operatorClient.publish(
            toggle("t-2", #","expires":"2020-01-01T00:00:00Z""#),
            topic: "devices/dev-0001/commands"
        )
        sent += 1
        #expect((try await reply("t-2")["error"] as? [String: Any])?["code"] as? String == "expired")
        #expect(try await rig.show() == "relay on transitions=1")

        // Offline: one command that expires (MQTT 5 Message Expiry 1 s) and one that does not wait in the broker's
        // persistent session for the agent.
        #expect(await agent.stop() == 0)
        try await rig.operatorClient.publish(
            toggle("t-3"),
            topic: "devices/dev-0001/commands",
            properties: ["-D", "publish", "message-expiry-interval", "1"]
        )
        try await rig.operatorClient.publish(
            toggle("t-4"),
            topic: "devices/dev-0001/commands",
            properties: ["-D", "publish", "message-expiry-interval", "120"]
        )
        // t-1 again, as a persistent session may redeliver after a restart.
        try await rig.operatorClient.publish(toggle("t-1"), topic: "devices/dev-0001/commands")
        sent += 3
        // The agent comes back only after t-3's expiry (a lower bound: the longer the machine takes, the surer).
        try await Task.sleep(for: .milliseconds(2500))
        agent = try await rig.start(subscriptions: 2)
        #expect(try await reply("t-4")["ok"] as? Bool == true, "\(agent.events)")
        try await replies.wait { $0.filter { json($0.payload)["id"] as? String == "t-1" }.count >= 3 }
        // The restart claimed the line at its safe state (off): only t-4 toggled it since.
        #expect(try await rig.show() == "relay on transitions=1", "\(agent.events)")
        let ping = try await rig.operatorClient.request(#"{"id":"last","command":"ping"}"#, device: "dev-0001")
        #expect(ping["ok"] as? Bool == true)
        #expect(
            !replies.messages.contains { json($0.payload)["id"] as? String == "t-3" },
            "an expired command was seen"
        )
        #expect(await agent.stop() == 0)
        let repliedIDs = replies.messages.compactMap { json($0.payload)["id"] as? String }
        let applied = replies.messages.filter {
            let object = json($0.payload)
            return object["ok"] as? Bool == true && object["duplicate"] == nil && object["id"] as? String != "last"
        }
        // The figures of this run: sent, applied, refused (duplicates, expired; t-3 never reached the agent).
        print(
            "two-way figures: toggles sent \(sent), applied \(applied.count), refused \(repliedIDs.filter { $0 != "last" }.count - applied.count), not delivered 1"
        )
        #expect(applied.count == 2)
        replies.stop()
        await rig.broker.stop()
    }

    @Test func aConfigWithAnErrorIsRefusedAndTheAgentKeepsPublishing() async throws {
        var rig = try await Rig("twoway-reload")
        let readings = try await Subscriber(broker: rig.broker, topic: "devices/dev-0001/sensors/#")
        let agent = try await rig.start()
        let good = try String(contentsOfFile: rig.path, encoding: .utf8)
        try await readings.wait { $0.count >= 3 }

        // A misspelt key: SIGHUP and apply_config both refuse it, naming the key; the agent goes on.
        try (good + "\n[commands]\napply_confg = \"reload\"\n").write(
            toFile: rig.path,
            atomically: true,
            encoding: .utf8
        )
        agent.child.signal(SIGHUP)
        #expect(try await waitFor { agent.log.contains("configuration refused") }, "\(agent.events)")
        #expect(agent.events.contains("commands.apply_confg"), "\(agent.events)")
        let refused = try await rig.operatorClient.request(
            #"{"id":"r-1","command":"apply_config"}"#,
            device: "dev-0001"
        )
        let error = refused["error"] as? [String: Any]
        #expect(error?["code"] as? String == "config_invalid" && error?["field"] as? String == "config")
        #expect((error?["message"] as? String)?.contains("commands.apply_confg") == true, "\(refused)")
        let before = readings.messages.count
        #expect(try await readings.wait { $0.count >= before + 5 }.count >= before + 5, "readings go on")

        // A sensor change needs a restart: refused, nothing applied.
        try good.replacingOccurrences(of: "toggle:100ms", with: "toggle:50ms").write(
            toFile: rig.path,
            atomically: true,
            encoding: .utf8
        )
        let restart = try await rig.operatorClient.request(
            #"{"id":"r-2","command":"apply_config"}"#,
            device: "dev-0001"
        )
        #expect((restart["error"] as? [String: Any])?["code"] as? String == "restart_required", "\(restart)")

        // A second output and a new connect timeout: applied live, the connection renewed, no reading lost.
        rig.config.connectTimeout = 9
        rig.config.sensors = Self.relay + "\n[[output]]\nname = \"lamp\"\nchip = \"gpiochip0\"\nline = 23\n"
        _ = try rig.config.write(to: rig.folder)
        agent.child.signal(SIGHUP)
        #expect(try await waitFor { agent.log.contains("configuration applied") }, "\(agent.events)")
        #expect(try await waitFor { agent.log.contains("reconnecting: configuration changed: broker.connect_timeout") })
        #expect(try await rig.show().contains("lamp off transitions=0"))
        #expect(try await waitFor { agent.count("MQTT connected") >= 2 }, "\(agent.events)")
        let lastBeforeStop = agent.newestSeq
        #expect(await agent.stop() == 0)
        let seqs = try await readings.wait(until: { messages in
            messages.compactMap { ReadingJSON.parse($0.payload)?.seq }.max() ?? 0 >= lastBeforeStop
        }).compactMap { ReadingJSON.parse($0.payload)?.seq }
        let newest = seqs.max() ?? 0
        #expect(newest >= lastBeforeStop && Set(seqs) == Set(1...newest), "every reading arrived across the reconnect")
        readings.stop()
        await rig.broker.stop()
    }

    /// Home Assistant's discovery, checked against its documented schema (topic format, required fields) from a real
    /// subscriber with the operator identity Home Assistant would use.
    @Test func homeAssistantDiscoveryFromASubscribersView() async throws {
        let sensors =
            Self.relay + """

                [[sensor]]
                name = "flow"
                type = "counter"
                chip = "gpiochip0"
                line = 27
                simulate = "pulses:5"

                [[sensor]]
                name = "room"
                type = "ds18b20"
                simulate = "sine:60s,18,24"
                """
        var rig = try await Rig("twoway-ha", aclOptions: ["--homeassistant", "homeassistant"], sensors: sensors)
        rig.config.extraSections = "[homeassistant]\nmodel = \"Test board\"\n"
        _ = try rig.config.write(to: rig.folder)
        let logFile = rig.broker.logFile
        let home = try await Subscriber(
            port: rig.broker.port,
            identity: rig.operatorClient.identity,
            folder: rig.broker.folder,
            topic: "homeassistant/#",
            persistentSession: nil,
            qos: 1
        ) { clientID, _ in
            ((try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "").contains(
                "Received SUBSCRIBE from \(clientID)"
            )
        }
        var agent = try await rig.start()
        let topics = [
            "homeassistant/binary_sensor/dev-0001/door/config", "homeassistant/sensor/dev-0001/flow/config",
            "homeassistant/sensor/dev-0001/room/config", "homeassistant/switch/dev-0001/relay/config",
        ]
        let configs = try await home.wait { messages in
            topics.allSatisfy { topic in messages.contains { $0.topic == topic } }
        }
        #expect(Set(configs.map(\.topic)) == Set(topics), "\(configs)\n\(agent.events)")
        for message in configs {
            let payload = json(message.payload)
            let component = message.topic.split(separator: "/")[1]
            // Required by the component's schema, and what ties the entity to a device and to availability.
            let required = component == "switch" ? ["command_topic"] : ["state_topic"]
            for key in required + ["unique_id", "device", "availability"] {
                #expect(payload[key] != nil, "\(message.topic) lacks \(key): \(message.payload)")
            }
            #expect(
                message.topic.wholeMatch(
                    of: /homeassistant\/(binary_sensor|sensor|switch)\/[a-zA-Z0-9_-]+\/[a-zA-Z0-9_-]+\/config/
                ) != nil
            )
            let device = payload["device"] as? [String: Any]
            #expect(
                device?["identifiers"] as? [String] == ["pinpost_dev-0001"]
                    && device?["model"] as? String == "Test board"
            )
            #expect(
                (payload["availability"] as? [[String: Any]])?.first?["topic"] as? String == "devices/dev-0001/status"
            )
        }
        // What Home Assistant's switch sends: the plain payload at QoS 0 on the command topic.
        let relay = json(configs.first { $0.topic.hasSuffix("/relay/config") }?.payload ?? "")
        try await rig.operatorClient.publish(
            relay["payload_on"] as? String ?? "",
            topic: relay["command_topic"] as? String ?? "",
            qos: relay["qos"] as? Int ?? 0
        )
        #expect(try await waitFor { (try? await rig.show()) == "relay on transitions=1" }, "\(agent.events)")

        // The thermometer and the relay leave the config (across a restart): their configs are removed.
        #expect(await agent.stop() == 0)
        rig.config.sensors = sensors.components(separatedBy: "[[sensor]]\nname = \"room\"")[0]
            .replacingOccurrences(of: "[[output]]\nname = \"relay\"\nchip = \"gpiochip0\"\nline = 22\n", with: "")
        _ = try rig.config.write(to: rig.folder)
        agent = try await rig.start(subscriptions: 2)
        let removed = ["homeassistant/sensor/dev-0001/room/config", "homeassistant/switch/dev-0001/relay/config"]
        let after = try await home.wait { messages in
            removed.allSatisfy { topic in
                messages.contains { $0.topic == topic && ($0.payload.isEmpty || $0.payload == "(null)") }
            }
        }
        #expect(
            removed.allSatisfy { topic in
                after.contains { $0.topic == topic && ($0.payload.isEmpty || $0.payload == "(null)") }
            },
            "\(after.suffix(6))\n\(agent.events)"
        )
        #expect(await agent.stop() == 0)
        home.stop()
        await rig.broker.stop()
    }
}
