import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The agent against a second broker implementation: amqtt 0.12.1 from PyPI (MQTT 3.1.1 only; TLS listener
/// that verifies the client certificate the agent presents). amqtt keeps sessions in memory, so a restart
/// tests the Session Present=0 path: the agent republishes what was unacknowledged as new messages.
@Suite("MQTT interop: amqtt (3.1.1)", .serialized, .timeLimit(.minutes(3)),
       .disabled("unfinished: the mosquitto_sub observer's first TLS connection to amqtt is dropped ('The connection was lost') and the harness never sees its SUBACK; the agent side was not reached yet"))
struct MQTTInteropAmqttTests {
    func subscriber(_ broker: AmqttBroker, qos: Int = 2) throws -> Subscriber {
        try Subscriber(port: broker.port, identity: broker.pki.watcher(), folder: broker.folder, topic: "devices/#",
                       persistentSession: "amqtt-watcher", qos: qos, extraArguments: ["-d"],
                       readyTimeout: .seconds(30)) { _, output in
            output.contains("received SUBACK")
        }
    }

    @Test("connect over TLS with a client certificate and QoS 0/1/2 publish; QoS 2 exactly once")
    func qosLevels() throws {
        let folder = try Repository.temporaryFolder("interop-amqtt-qos")
        let pki = try TestPKI(in: folder)
        let broker = try AmqttBroker(pki: pki)
        let run = InteropRun(folder: folder, device: try pki.device("dev-0001"))
        let subscriber = try subscriber(broker)
        defer { subscriber.stop(); broker.stop() }
        let agent = try AgentProcess(configPath: run.config(port: broker.port, protocolVersion: "3.1.1"))
        subscriber.wait { messages in ["q0", "q1", "q2"].allSatisfy { run.readings(messages, sensor: $0).count >= 5 } }
        #expect(agent.stop() == 0, "\(agent.log)")
        let last = try run.lastSeq()
        let messages = subscriber.wait { messages in
            Set(["q0", "q1", "q2"].flatMap { run.readings(messages, sensor: $0).map(\.seq) }) == Set(1...last)
        }
        let q0 = run.readings(messages, sensor: "q0").map(\.seq)
        let q1 = run.readings(messages, sensor: "q1").map(\.seq)
        let q2 = run.readings(messages, sensor: "q2").map(\.seq)
        #expect(q0.count >= 5 && q1.count >= 5 && q2.count >= 5, "\(agent.log)")
        #expect(Set(q2).count == q2.count, "QoS 2 duplicates: \(q2)")
        let all = Set(q0 + q1 + q2)
        #expect(all == Set(1...last), "missing \(Set(1...last).subtracting(all).sorted())")
    }

    @Test("broker restarted gracefully (sessions lost): the agent reconnects, republishes, and readings keep arriving")
    func restart() throws {
        let folder = try Repository.temporaryFolder("interop-amqtt-restart")
        let pki = try TestPKI(in: folder)
        let broker = try AmqttBroker(pki: pki)
        let run = InteropRun(folder: folder, device: try pki.device("dev-0001"))
        let subscriber = try subscriber(broker)
        defer { subscriber.stop(); broker.stop() }
        let agent = try AgentProcess(configPath: run.config(port: broker.port, protocolVersion: "3.1.1", toggle: "20ms", qos: [1, 2]))
        for _ in 0..<2 {
            Thread.sleep(forTimeInterval: 1.5)
            broker.stop()
            Thread.sleep(forTimeInterval: 0.3)
            try broker.start()
        }
        // The subscriber (restarted by its supervisor) must be back before the tail is judged.
        Thread.sleep(forTimeInterval: 3)
        let tailStart = (run.readings(subscriber.messages, sensor: "q1") + run.readings(subscriber.messages, sensor: "q2")).map(\.seq).max() ?? 0
        Thread.sleep(forTimeInterval: 1)
        #expect(agent.stop() == 0, "\(agent.log)")
        let last = try run.lastSeq()
        #expect(last > tailStart)
        let messages = subscriber.wait { messages in
            Set(["q1", "q2"].flatMap { run.readings(messages, sensor: $0).map(\.seq) }).isSuperset(of: (tailStart + 1)...last)
        }
        let seen = Set(["q1", "q2"].flatMap { run.readings(messages, sensor: $0).map(\.seq) })
        let missing = Set((tailStart + 1)...last).subtracting(seen).sorted()
        #expect(missing.isEmpty, "after the restarts every reading arrives; missing \(missing.prefix(20))")
        let connects = agent.log.components(separatedBy: "MQTT connected").count - 1
        #expect(connects >= 3, "\(agent.log.suffix(3000))")
        #expect(!agent.log.contains("unacknowledged readings stay in the spool"), "everything was acknowledged: \(agent.log.suffix(2000))")
        print("interop amqtt restarts: produced \(last), seen \(seen.count), connections \(connects)")
    }

    @Test("duplicate client id: amqtt takes the session over, the agent names it and loses nothing")
    func takeover() throws {
        let folder = try Repository.temporaryFolder("interop-amqtt-takeover")
        let pki = try TestPKI(in: folder)
        let broker = try AmqttBroker(pki: pki)
        let run = InteropRun(folder: folder, device: try pki.device("dev-0001"))
        let subscriber = try subscriber(broker)
        defer { subscriber.stop(); broker.stop() }
        let agent = try AgentProcess(configPath: run.config(port: broker.port, protocolVersion: "3.1.1", qos: [1]))
        #expect(waitFor(timeout: .seconds(10)) { agent.log.contains("MQTT connected") })
        var impostors: [ChildProcess] = []
        for _ in 0..<3 {
            impostors.append(try run.impostor(port: broker.port, protocolVersion: "3.1.1"))
            Thread.sleep(forTimeInterval: 1.5)
        }
        for impostor in impostors { impostor.stop(signal: SIGKILL) }
        #expect(waitFor(timeout: .seconds(10)) { run.reconnected(agent.log) }, "\(agent.log.suffix(2000))")
        #expect(agent.child.isRunning)
        #expect(agent.stop() == 0, "\(agent.log)")
        #expect(agent.log.contains("another client may be using client id"), "the takeover is named: \(agent.log.suffix(3000))")
        let last = try run.lastSeq()
        let messages = subscriber.wait { Set(run.readings($0, sensor: "q1").map(\.seq)) == Set(1...last) }
        let seen = Set(run.readings(messages, sensor: "q1").map(\.seq))
        #expect(seen == Set(1...last), "missing \(Set(1...last).subtracting(seen).sorted())")
    }
}
