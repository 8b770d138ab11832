import Foundation
import Logging
import MQTT
import Publisher
import Synchronization
import Testing
import Timestamps

@testable import PinpostAgent

/// Records what the processor asked for; answers like a device with one output `relay` and one sensor `door`.
final class FakeTargets: CommandTargets {
    let calls = Mutex<[String]>([])

    func setOutput(
        _ name: String,
        to value: CommandRequest.OutputValue,
        pulse: Duration?
    ) async throws(CommandError) -> CommandReply.Fields {
        guard name == "relay" else { throw CommandError(.unknownOutput, field: "output", "no output '\(name)'") }
        calls.withLock { $0.append("set \(name) \(value.rawValue)") }
        return [ReplyField("output", .string(name)), ReplyField("state", .string(value.rawValue))]
    }

    func readSensor(_ name: String) async throws(CommandError) -> CommandReply.Fields {
        calls.withLock { $0.append("read \(name)") }
        return [ReplyField("sensor", .string(name)), ReplyField("value", .integer(1))]
    }

    func publishStatus() async -> CommandReply.Fields {
        calls.withLock { $0.append("status") }
        return []
    }

    func applyConfig(_ text: String?) async throws(CommandError) -> CommandReply.Fields {
        calls.withLock { $0.append("config") }
        return []
    }
}

@Suite("Command handling")
struct CommandProcessorTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pinpost-cmd-\(UUID().uuidString)").path
    let topics = CommandTopics(deviceID: "dev-0001")

    func processor(_ targets: FakeTargets, trusted: Bool = true) throws -> CommandProcessor {
        CommandProcessor(
            topics: topics,
            ledger: try CommandLedger(folder: folder, capacity: 64),
            targets: targets,
            clockTrusted: { trusted },
            logger: Logger(label: "test")
        )
    }

    func message(
        _ json: String,
        topic: String? = nil,
        qos: QoS = .atLeastOnce,
        retain: Bool = false,
        dup: Bool = false,
        properties: PublishProperties = PublishProperties()
    ) -> PublishPacket {
        PublishPacket(
            topic: topic ?? topics.commands,
            payload: Array(json.utf8),
            qos: qos,
            retain: retain,
            dup: dup,
            packetID: qos == .atMostOnce ? nil : 1,
            properties: properties
        )
    }

    func reply(_ outbound: OutboundMessage?) -> [String: Any] {
        guard let outbound,
            let object = try? JSONSerialization.jsonObject(with: Data(outbound.payload)) as? [String: Any]
        else { return [:] }
        return object
    }

    func errorCode(_ outbound: OutboundMessage?) -> String? {
        (reply(outbound)["error"] as? [String: Any])?["code"] as? String
    }

    static let toggle = #"{"id":"c-1","command":"set_output","output":"relay","value":"toggle"}"#

    @Test func aCommandIsAppliedAtMostOnceAcrossRedeliveryAndRestart() async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let targets = FakeTargets()
        var first = try processor(targets)
        let applied = await first.handle(message(Self.toggle), waited: .zero)
        #expect(reply(applied)["ok"] as? Bool == true)
        // QoS 1 redelivery (DUP) on the same connection.
        let again = await first.handle(message(Self.toggle, dup: true), waited: .zero)
        #expect(reply(again)["ok"] as? Bool == true)
        #expect(reply(again)["duplicate"] as? Bool == true)
        // A restarted agent (new processor, the ledger from disk) gets it again from the persistent session.
        var restarted = try processor(targets)
        let afterRestart = await restarted.handle(message(Self.toggle), waited: .zero)
        #expect(reply(afterRestart)["duplicate"] as? Bool == true)
        #expect(targets.calls.withLock { $0 } == ["set relay toggle"], "applied exactly once")
        #expect(first.counts == .init(received: 2, applied: 1, refused: 0, duplicates: 1))
    }

    @Test func expiredAndUndatableCommandsAreNeverApplied() async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let targets = FakeTargets()
        var processor = try processor(targets)
        let late =
            #"{"id":"c-1","command":"set_output","output":"relay","value":"on","expires":"2020-01-01T00:00:00Z"}"#
        #expect(errorCode(await processor.handle(message(late), waited: .zero)) == "expired")
        var expiring = PublishProperties()
        expiring.messageExpiryInterval = 2
        let waitedTooLong = await processor.handle(
            message(#"{"id":"c-2","command":"set_output","output":"relay","value":"on"}"#, properties: expiring),
            waited: .seconds(3)
        )
        #expect(errorCode(waitedTooLong) == "expired")
        var untrusted = try self.processor(targets, trusted: false)
        let future =
            #"{"id":"c-3","command":"set_output","output":"relay","value":"on","expires":"2999-01-01T00:00:00Z"}"#
        #expect(errorCode(await untrusted.handle(message(future), waited: .zero)) == "clock_untrusted")
        let timeless = #"{"id":"c-4","command":"ping"}"#
        #expect(reply(await untrusted.handle(message(timeless), waited: .zero))["ok"] as? Bool == true)
        #expect(targets.calls.withLock { $0 }.isEmpty)
        // An expired id stays used: the same command sent again is a duplicate, not a second chance.
        let repeated = await processor.handle(message(late), waited: .zero)
        #expect(reply(repeated)["duplicate"] as? Bool == true)
        #expect(errorCode(repeated) == "expired")
    }

    @Test func retainedCommandsAreRefused() async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let targets = FakeTargets()
        var processor = try processor(targets)
        #expect(errorCode(await processor.handle(message(Self.toggle, retain: true), waited: .zero)) == "retained")
        let plain = await processor.handle(
            message("on", topic: topics.outputCommand("relay"), qos: .atMostOnce, retain: true),
            waited: .zero
        )
        #expect(errorCode(plain) == "retained")
        #expect(targets.calls.withLock { $0 }.isEmpty)
    }

    @Test func repliesGoToTheResponseTopicWithTheCorrelationData() async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var processor = try processor(FakeTargets())
        var properties = PublishProperties()
        properties.responseTopic = "devices/dev-0001/replies/op-7"
        properties.correlationData = [1, 2, 3]
        let answer = await processor.handle(
            message(#"{"id":"p","command":"ping"}"#, properties: properties),
            waited: .zero
        )
        #expect(answer?.topic == "devices/dev-0001/replies/op-7")
        #expect(answer?.properties.correlationData == [1, 2, 3])
        #expect(answer?.qos == .atLeastOnce && answer?.retain == false)
        #expect(reply(answer)["id"] as? String == "p")

        let noTopic = await processor.handle(message(#"{"id":"q","command":"ping"}"#), waited: .zero)
        #expect(noTopic?.topic == "devices/dev-0001/replies", "3.1.1, or 5.0 without a Response Topic")

        properties.responseTopic = "devices/dev-0002/replies"
        let foreign = await processor.handle(
            message(#"{"id":"r","command":"ping"}"#, properties: properties),
            waited: .zero
        )
        #expect(foreign?.topic == "devices/dev-0001/replies")
        #expect(errorCode(foreign) == "bad_response_topic")
    }

    @Test func topicsDecideTheKindOfCommand() async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let targets = FakeTargets()
        var processor = try processor(targets)
        let plain = await processor.handle(
            message("ON", topic: topics.outputCommand("relay"), qos: .atMostOnce),
            waited: .zero
        )
        #expect(reply(plain)["ok"] as? Bool == true)
        let plainAtQoS1 = await processor.handle(message("off", topic: topics.outputCommand("relay")), waited: .zero)
        #expect(errorCode(plainAtQoS1) == "qos_not_allowed")
        let unknown = await processor.handle(message(Self.toggle, topic: topics.commands + "/x/y"), waited: .zero)
        #expect(errorCode(unknown) == "unknown_topic")
        #expect(await processor.handle(message(Self.toggle, topic: "devices/dev-0002/commands"), waited: .zero) == nil)
        #expect(targets.calls.withLock { $0 } == ["set relay on"])
    }

    @Test func theOnlySubscriptionIsTheDevicesOwnCommands() {
        for id in ["dev-0001", "a", "x.y_z-9"] {
            let subscription = CommandTopics(deviceID: id).subscription
            #expect(subscription.topicFilter == "devices/\(id)/commands/#")
            #expect(subscription.qos == .atLeastOnce)
        }
    }
}
