/// One message as `mosquitto_sub` printed it: `-v` gives `topic payload`; for MQTT 5 detached signatures use
/// `-F '%t %P %p'`, which puts the user properties (`sig:<detached JWS>`) between the topic and the payload.
public struct CapturedMessage: Sendable, Equatable {
    public var topic: String
    /// The `sig` user property, when the line has one.
    public var signature: String?
    public var payload: [UInt8]

    public init(topic: String, signature: String?, payload: [UInt8]) {
        self.topic = topic
        self.signature = signature
        self.payload = payload
    }

    /// Parses one line; nil for an empty line. Tokens of the form `name:value` between the topic and the payload
    /// are user properties (a payload never starts with one: readings are JSON, JWS or JWE).
    public static func parse(_ line: Substring) -> CapturedMessage? {
        var rest = line
        if rest.last == "\r" { rest.removeLast() }
        guard let space = rest.firstIndex(of: " ") else { return nil }
        let topic = String(rest[..<space])
        rest = rest[rest.index(after: space)...]
        var signature: String?
        while true {
            while rest.first == " " { rest.removeFirst() }
            let token = rest.prefix { $0 != " " }
            guard let colon = token.firstIndex(of: ":"), colon != token.startIndex,
                token[..<colon].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" })
            else { break }
            if token[..<colon] == Substring(ReadingSealer.propertyName) {
                signature = String(token[token.index(after: colon)...])
            }
            rest = rest[token.endIndex...]
        }
        guard !topic.isEmpty else { return nil }
        return CapturedMessage(topic: topic, signature: signature, payload: Array(rest.utf8))
    }

    /// The line `parse` reads back: `topic [sig:value] payload`.
    public var line: String {
        topic + (signature.map { " \(ReadingSealer.propertyName):\($0)" } ?? "") + " "
            + String(decoding: payload, as: UTF8.self)
    }
}
