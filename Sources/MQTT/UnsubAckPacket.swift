/// UNSUBACK (§3.11): confirms an UNSUBSCRIBE.
public struct UnsubAckPacket: Sendable, Equatable {
    public var packetID: UInt16
    /// MQTT 5: one per topic filter. Always empty for 3.1.1, which has no payload.
    public var reasonCodes: [ReasonCode]
    /// MQTT 5 only.
    public var properties: AckProperties

    public init(packetID: UInt16, reasonCodes: [ReasonCode] = [], properties: AckProperties = AckProperties()) {
        self.packetID = packetID
        self.reasonCodes = reasonCodes
        self.properties = properties
    }
}
