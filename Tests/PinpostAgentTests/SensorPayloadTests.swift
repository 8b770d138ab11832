import MQTT
import PinpostAgent
import Testing
import Timestamps

@Suite("Payloads of the new sensor kinds")
struct SensorPayloadTests {
    func json(_ value: Reading.Value) -> String {
        let reading = Reading(
            sensor: "s",
            value: value,
            edge: nil,
            takenAt: UTCTime(epochMilliseconds: 0),
            clockSynchronized: true,
            stream: "00c0ffee00c0ffee",
            seq: 7,
            qos: .atLeastOnce
        )
        return String(decoding: ReadingPayload.encode(reading), as: UTF8.self)
    }

    @Test func measurementCarriesItsUnitAndNoBinaryNoise() {
        #expect(
            json(.measurement(25.080000000000002, unit: "°C"))
                == #"{"sensor":"s","value":25.08,"unit":"°C","ts":"1970-01-01T00:00:00.000Z","stream":"00c0ffee00c0ffee","seq":7}"#
        )
        #expect(
            json(.measurement(2700, unit: "mV"))
                == #"{"sensor":"s","value":2700,"unit":"mV","ts":"1970-01-01T00:00:00.000Z","stream":"00c0ffee00c0ffee","seq":7}"#
        )
    }

    @Test func counterCarriesCountAndRate() {
        #expect(
            json(.pulses(4, total: 10, rate: 3.99975, unit: nil))
                == #"{"sensor":"s","value":4,"count":10,"rate":3.99975,"ts":"1970-01-01T00:00:00.000Z","stream":"00c0ffee00c0ffee","seq":7}"#
        )
    }

    @Test func digitalShapeIsUnchanged() {
        #expect(
            json(.digital(true))
                == #"{"sensor":"s","value":1,"ts":"1970-01-01T00:00:00.000Z","stream":"00c0ffee00c0ffee","seq":7}"#
        )
    }
}
