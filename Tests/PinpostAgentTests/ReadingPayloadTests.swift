import MQTT
import PinpostAgent
import Testing
import Timestamps

@Suite("Reading payload JSON")
struct ReadingPayloadTests {
    func reading(
        _ sensor: String = "door",
        value: Reading.Value = .digital(true),
        edge: String? = "rising",
        synchronized: Bool = true
    ) -> Reading {
        Reading(
            sensor: sensor,
            value: value,
            edge: edge,
            takenAt: UTCTime(epochMilliseconds: 1_795_392_123_456),
            clockSynchronized: synchronized,
            stream: "00c0ffee00c0ffee",
            seq: 42,
            qos: .atLeastOnce
        )
    }

    @Test func digitalEdgeReading() {
        let json = String(decoding: ReadingPayload.encode(reading()), as: UTF8.self)
        #expect(
            json == #"{"sensor":"door","value":1,"edge":"rising","ts":"2026-11-23T00:02:03.456Z","#
                + #""stream":"00c0ffee00c0ffee","seq":42}"#
        )
    }

    @Test func initialStateHasNoEdge() {
        let json = String(decoding: ReadingPayload.encode(reading(value: .digital(false), edge: nil)), as: UTF8.self)
        #expect(
            json == #"{"sensor":"door","value":0,"ts":"2026-11-23T00:02:03.456Z","stream":"00c0ffee00c0ffee","seq":42}"#
        )
    }

    @Test func unsynchronizedClockIsMarked() {
        let json = String(decoding: ReadingPayload.encode(reading(synchronized: false)), as: UTF8.self)
        #expect(json.hasSuffix(#","stream":"00c0ffee00c0ffee","seq":42,"clock":"unsynced"}"#))
    }

    @Test func stringsAreEscaped() {
        let json = String(decoding: ReadingPayload.encode(reading("a\"b\\c\u{1}")), as: UTF8.self)
        #expect(json.hasPrefix(#"{"sensor":"a\"b\\c\u0001","#))
    }

    @Test func topicsLiveUnderTheDeviceNamespace() {
        let topics = Topics(deviceID: "dev-0001")
        #expect(topics.sensor("door") == "devices/dev-0001/sensors/door")
        #expect(topics.status == "devices/dev-0001/status")
    }
}
