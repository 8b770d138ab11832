/// Why `ClientSession.publish` refused a message; a refused message is never sent and never queued.
public struct PublishError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable category of the refusal.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// Larger than the server's Maximum Packet Size [MQTT-3.2.2-15] or the protocol limit.
        public static let packetTooLarge = Code("packet too large")
        /// Empty, wildcard-bearing, NUL-bearing or over-long topic name [MQTT-3.3.2-2], [MQTT-4.7.3-1].
        public static let invalidTopic = Code("invalid topic")
        /// QoS above the server's Maximum QoS with the `.refuse` policy [MQTT-3.2.2-11].
        public static let qosNotSupported = Code("QoS not supported")
        /// RETAIN while the server announced Retain Available = 0 [MQTT-3.2.2-14].
        public static let retainNotSupported = Code("retain not supported")
        /// Properties a client must not send (Subscription Identifier [MQTT-3.3.4-6], Topic Alias) or invalid values.
        public static let invalidProperties = Code("invalid properties")
    }

    public var code: Code
    /// Human-readable detail for logs.
    public var detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "publish refused: \(code): \(detail)" }
}
