/// Topic name and filter rules (§4.7), shared by the codec and the session.
enum Topic {
    /// A topic name for PUBLISH: non-empty, no wildcards [MQTT-3.3.2-2], [MQTT-4.7.3-1], ≤ 65535 bytes.
    /// An empty name is allowed only when `allowEmpty` (MQTT 5 with a Topic Alias).
    static func validateName(_ topic: String, allowEmpty: Bool = false) throws(MQTTCodecError) {
        if topic.isEmpty {
            if allowEmpty { return }
            throw MQTTCodecError(.invalidTopic, "topic name is empty [MQTT-4.7.3-1]")
        }
        if topic.utf8.count > Int(UInt16.max) {
            throw MQTTCodecError(.invalidTopic, "topic name longer than 65535 bytes")
        }
        // Every PUBLISH is checked (by the session and by the encoder): scan the UTF-8 bytes in place, which costs
        // a few instructions a byte where iterating the String's UTF-8 view cost about twenty-five.
        var topic = topic
        let reserved = topic.withUTF8 { bytes in
            bytes.first { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "#") || $0 == 0 }
        }
        switch reserved {
        case nil:
            return
        case 0:
            throw MQTTCodecError(.invalidUTF8, "topic name contains U+0000 [MQTT-4.7.3-2]")
        default:
            throw MQTTCodecError(.invalidTopic, "topic name '\(topic)' contains a wildcard [MQTT-3.3.2-2]")
        }
    }

    /// A topic filter for SUBSCRIBE/UNSUBSCRIBE: '#' only as the last whole level, '+' only as a whole level
    /// [MQTT-4.7.1-1], [MQTT-4.7.1-2].
    static func validateFilter(_ filter: String) throws(MQTTCodecError) {
        guard !filter.isEmpty else {
            throw MQTTCodecError(.invalidTopic, "topic filter is empty [MQTT-4.7.3-1]")
        }
        if filter.utf8.count > Int(UInt16.max) {
            throw MQTTCodecError(.invalidTopic, "topic filter longer than 65535 bytes")
        }
        let levels = filter.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        for (index, level) in levels.enumerated() {
            if level.contains(0) {
                throw MQTTCodecError(.invalidUTF8, "topic filter contains U+0000 [MQTT-4.7.3-2]")
            }
            if level.contains(UInt8(ascii: "#")) && (level.count != 1 || index != levels.count - 1) {
                throw MQTTCodecError(.invalidTopic, "'#' must be the last, whole level in '\(filter)' [MQTT-4.7.1-2]")
            }
            if level.contains(UInt8(ascii: "+")) && level.count != 1 {
                throw MQTTCodecError(.invalidTopic, "'+' must occupy a whole level in '\(filter)' [MQTT-4.7.1-3]")
            }
        }
    }
}
