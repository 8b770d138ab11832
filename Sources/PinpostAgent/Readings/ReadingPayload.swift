internal import Timestamps

/// The JSON published for a reading, written by hand: fixed field order, no Foundation, no allocation surprises.
///
/// `{"sensor":"door","value":1,"edge":"rising","ts":"2026-11-23T01:02:03.456Z","seq":42}`
/// plus `"clock":"unsynced"` when the clock was not known to be right.
public enum ReadingPayload {
    public static func encode(_ reading: Reading) -> [UInt8] {
        var json = "{\"sensor\":"
        appendString(reading.sensor, to: &json)
        json += ",\"value\":"
        switch reading.value {
        case .digital(let on): json += on ? "1" : "0"
        case .number(let number): json += number.isFinite ? "\(number)" : "null"
        }
        if let edge = reading.edge {
            json += ",\"edge\":"
            appendString(edge, to: &json)
        }
        json += ",\"ts\":\"\(reading.takenAt.rfc3339)\",\"seq\":\(reading.seq)"
        if !reading.clockSynchronized {
            json += ",\"clock\":\"unsynced\""
        }
        json += "}"
        return Array(json.utf8)
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
