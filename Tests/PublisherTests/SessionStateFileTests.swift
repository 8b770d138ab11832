import DurableSpool
import MQTT
import Testing

@testable import Publisher

@Suite("MQTT session state across restarts")
struct SessionStateFileTests {
    func snapshot() -> SessionSnapshot {
        SessionSnapshot(
            clientID: "dev-0001",
            inFlight: [
                .init(
                    packetID: 7,
                    phase: .awaitingAcknowledgement,
                    message: .init(
                        topic: "devices/dev-0001/sensors/door",
                        payload: [1],
                        qos: .atLeastOnce,
                        retain: false,
                        tag: 41
                    )
                ),
                .init(
                    packetID: 8,
                    phase: .awaitingCompletion,
                    message: .init(
                        topic: "devices/dev-0001/sensors/door",
                        payload: [2],
                        qos: .exactlyOnce,
                        retain: false,
                        tag: 42
                    )
                ),
                .init(
                    packetID: 9,
                    phase: .awaitingAcknowledgement,
                    message: .init(
                        topic: "devices/dev-0001/status",
                        payload: [3],
                        qos: .atLeastOnce,
                        retain: true,
                        tag: UInt64.max - 1
                    )
                ),
            ],
            incomingQoS2PacketIDs: [3],
            nextPacketID: 10
        )
    }

    @Test func roundTripsWithoutStatusMessagesOrBodies() throws {
        let file = SessionStateFile(snapshot: snapshot()) { $0 < UInt64.max - 1 }
        #expect(file.inFlight.map(\.seq) == [41, 42], "the status message is not a reading")
        let decoded = try #require(SessionStateFile.decode(file.encoded()))
        #expect(decoded == file)
        #expect(String(decoding: file.encoded(), as: UTF8.self).contains("inflight 8 2 C 42"))
    }

    @Test func rebuildsBodiesFromTheSpoolAndKeepsPubrelOnlyEntriesWithoutThem() throws {
        let file = SessionStateFile(snapshot: snapshot()) { $0 < UInt64.max - 1 }
        let record = SpoolRecord(
            seq: 41,
            takenAtMilliseconds: 0,
            qos: 1,
            topic: "devices/dev-0001/sensors/door",
            payload: [9, 9]
        )
        let restored = file.snapshot(records: [41: record])
        #expect(restored.inFlight.map(\.packetID) == [7, 8], "same ids, same order [MQTT-4.4.0-1]")
        #expect(restored.inFlight[0].message.payload == [9, 9])
        #expect(
            restored.inFlight[1].phase == .awaitingCompletion,
            "past PUBREC only the id matters: PUBREL is resent, never the PUBLISH"
        )
        #expect(restored.nextPacketID == 10)
        #expect(restored.incomingQoS2PacketIDs == [3])
        // A QoS 1 entry whose reading is gone cannot be resent: it is dropped, the id freed.
        #expect(file.snapshot(records: [:]).inFlight.map(\.packetID) == [8])
    }

    @Test func aResentReadingKeepsItsDetachedSignature() {
        let file = SessionStateFile(snapshot: snapshot()) { $0 < UInt64.max - 1 }
        let record = SpoolRecord(
            seq: 41,
            takenAtMilliseconds: 0,
            qos: 1,
            topic: "devices/dev-0001/sensors/door",
            payload: [9, 9],
            attributes: [SpoolAttribute(name: "sig", value: "header..signature")]
        )
        let restored = file.snapshot(records: [41: record])
        #expect(restored.inFlight[0].message.properties.userProperties == [UserProperty("sig", "header..signature")])
        #expect(record.publishProperties == restored.inFlight[0].message.properties)
    }

    @Test(arguments: [
        "", "pinpost-session 1\nend\n", "pinpost-session 1\nclient_id d\ninflight 0 1 A 4\nend\n",
        "pinpost-session 1\nclient_id d\ninflight 3 0 A 4\nend\n", "garbage",
    ])
    func damagedFilesAreRefused(text: String) {
        #expect(SessionStateFile.decode(Array(text.utf8)) == nil)
    }
}
