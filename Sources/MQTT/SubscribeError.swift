/// Why `ClientSession.subscribe`/`unsubscribe` refused a request; nothing was sent.
public struct SubscribeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable category of the refusal.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// Subscriptions are not part of the persisted session; they need a live connection.
        public static let notConnected = Code("not connected")
        /// Empty request or invalid topic filter [MQTT-4.7.1-2], [MQTT-4.7.1-3].
        public static let invalidTopicFilter = Code("invalid topic filter")
        /// All 65535 packet identifiers are in use.
        public static let noPacketIdentifierAvailable = Code("no packet identifier available")
        /// The request does not fit the server's Maximum Packet Size or the protocol limits.
        public static let packetTooLarge = Code("packet too large")
    }

    public var code: Code
    public var detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "subscribe refused: \(code): \(detail)" }
}
