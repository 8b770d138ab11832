/// Why bytes could not be decoded into, or a packet could not be encoded as, a valid MQTT packet.
/// A decoding error means the stream is unusable: the caller must close the connection [MQTT-4.8.0-1].
public struct MQTTCodecError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The category of the failure; stable for matching in code and tests.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// Variable Byte Integer longer than 4 bytes or not minimally encoded [MQTT-1.5.5-1].
        public static let malformedRemainingLength = Code("malformed remaining length")
        /// Packet exceeds the configured Maximum Packet Size or the protocol limit.
        public static let packetTooLarge = Code("packet too large")
        /// A string is not well-formed UTF-8 or contains U+0000 [MQTT-1.5.4-1], [MQTT-1.5.4-2].
        public static let invalidUTF8 = Code("invalid UTF-8")
        /// Fixed-header flag bits that must have fixed values do not [MQTT-2.1.3-1].
        public static let reservedFlags = Code("reserved flags")
        /// Packet type 0, or a type that does not exist in the negotiated version.
        public static let unknownPacketType = Code("unknown packet type")
        /// Property not allowed in this packet, duplicated, or out of range.
        public static let invalidProperty = Code("invalid property")
        /// Declared lengths disagree with the packet, or a field is missing.
        public static let malformedPacket = Code("malformed packet")
        /// QoS value 3 [MQTT-3.3.1-4].
        public static let invalidQoS = Code("invalid QoS")
        /// Topic name or filter is empty, too long or uses wildcards where forbidden [MQTT-3.3.2-2].
        public static let invalidTopic = Code("invalid topic")
        /// Packet identifier is zero, missing where required or present where forbidden [MQTT-2.2.1-3].
        public static let invalidPacketIdentifier = Code("invalid packet identifier")
        /// A semantic rule of the protocol is broken (e.g. wrong protocol name, will flags without will).
        public static let protocolViolation = Code("protocol violation")
        /// The packet or a field cannot be expressed in the selected protocol version.
        public static let unsupportedInVersion = Code("unsupported in this protocol version")
    }

    public var code: Code
    /// Human-readable detail for logs.
    public var detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "MQTT codec error: \(code): \(detail)" }
}
