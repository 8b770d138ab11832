internal import Timestamps

/// The JSON published for a reading, written by hand: fixed field order, no Foundation, no allocation surprises.
///
/// `{"sensor":"door","value":1,"edge":"rising","ts":"2026-11-23T01:02:03.456Z","stream":"9f86d081884c7d65","seq":42}`
/// plus `"clock":"unsynced"` when the clock was not known to be right. Measurements add `"unit"`
/// (`{"sensor":"room","value":21.437,"unit":"°C",...}`); counters add `"count"` and `"rate"`.
public enum ReadingPayload {
    public static func encode(_ reading: Reading) -> [UInt8] {
        var json = "{\"sensor\":"
        appendString(reading.sensor, to: &json)
        json += ",\"value\":"
        switch reading.value {
        case .digital(let on): json += on ? "1" : "0"
        case .number(let number), .measurement(let number, _): appendNumber(number, to: &json)
        case .pulses(let pulses, _, _, _): json += "\(pulses)"
        }
        if case .pulses(_, let total, let rate, _) = reading.value {
            json += ",\"count\":\(total),\"rate\":"
            appendNumber(rate, to: &json)
        }
        if let unit = reading.unit {
            json += ",\"unit\":"
            appendString(unit, to: &json)
        }
        if let edge = reading.edge {
            json += ",\"edge\":"
            appendString(edge, to: &json)
        }
        json += ",\"ts\":\"\(reading.takenAt.rfc3339)\",\"stream\":"
        appendString(reading.stream, to: &json)
        json += ",\"seq\":\(reading.seq)"
        if !reading.clockSynchronized {
            json += ",\"clock\":\"unsynced\""
        }
        json += "}"
        return Array(json.utf8)
    }

    /// Appends a JSON number rounded to 6 decimals (sysfs scales leave binary noise such as
    /// 25.080000000000002), or `null` when not finite.
    static func appendNumber(_ number: Double, to json: inout String) {
        guard number.isFinite else {
            json += "null"
            return
        }
        let rounded = (number * 1e6).rounded() / 1e6
        if rounded == rounded.rounded(), abs(rounded) < 1e15 {
            json += "\(Int64(rounded))"
        } else {
            json += "\(rounded)"
        }
    }

    /// Appends a JSON string literal, escaping what RFC 8259 requires.
    static func appendString(_ text: String, to json: inout String) {
        json += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": json += "\\\""
            case "\\": json += "\\\\"
            case "\n": json += "\\n"
            case "\r": json += "\\r"
            case "\t": json += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                json += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                json.unicodeScalars.append(scalar)
            }
        }
        json += "\""
    }
}
