/// CONNACK (§3.2): the server's verdict on CONNECT and, in MQTT 5, the limits for this connection.
public struct ConnAckPacket: Sendable, Equatable {
    /// Whether the server resumed stored session state.
    public var sessionPresent: Bool
    /// MQTT 3.1.1 return codes 1...5 are mapped to the equivalent MQTT 5 reason codes (0x84...0x88).
    public var reasonCode: ReasonCode
    /// MQTT 5 only.
    public var properties: ConnAckProperties

    public init(
        sessionPresent: Bool,
        reasonCode: ReasonCode = .success,
        properties: ConnAckProperties = ConnAckProperties()
    ) {
        self.sessionPresent = sessionPresent
        self.reasonCode = reasonCode
        self.properties = properties
    }
}
