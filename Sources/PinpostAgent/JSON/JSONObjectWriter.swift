/// Writes one JSON object with its keys in the order given (replies, output states, discovery payloads), with
/// the readings' own escaping and number rules.
struct JSONObjectWriter {
    private var text = "{"
    private var empty = true

    private mutating func key(_ name: String) {
        if !empty { text += "," }
        empty = false
        ReadingPayload.appendString(name, to: &text)
        text += ":"
    }

    mutating func string(_ name: String, _ value: String?) {
        key(name)
        if let value {
            ReadingPayload.appendString(value, to: &text)
        } else {
            text += "null"
        }
    }

    mutating func number(_ name: String, _ value: Double) {
        key(name)
        ReadingPayload.appendNumber(value, to: &text)
    }

    mutating func integer<T: BinaryInteger>(_ name: String, _ value: T) {
        key(name)
        text += "\(value)"
    }

    mutating func bool(_ name: String, _ value: Bool) {
        key(name)
        text += value ? "true" : "false"
    }

    mutating func strings(_ name: String, _ values: [String]) {
        key(name)
        text += "["
        for (index, value) in values.enumerated() {
            if index > 0 { text += "," }
            ReadingPayload.appendString(value, to: &text)
        }
        text += "]"
    }

    /// A nested object (or any JSON text written elsewhere), inserted as is.
    mutating func raw(_ name: String, _ json: String) {
        key(name)
        text += json
    }

    var json: String { text + "}" }
    var bytes: [UInt8] { Array(json.utf8) }
}
