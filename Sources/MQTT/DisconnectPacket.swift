/// DISCONNECT (§3.14): graceful end of a connection; in MQTT 5 either side may send it with a reason.
public struct DisconnectPacket: Sendable, Equatable {
    /// MQTT 5 only; 0x00 (normal disconnection) suppresses the Will.
    public var reasonCode: ReasonCode
    public var properties: DisconnectProperties

    public init(
        reasonCode: ReasonCode = .normalDisconnection,
        properties: DisconnectProperties = DisconnectProperties()
    ) {
        self.reasonCode = reasonCode
        self.properties = properties
    }
}
