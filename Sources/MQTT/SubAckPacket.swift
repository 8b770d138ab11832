/// SUBACK (§3.9): one result per requested subscription, in request order.
public struct SubAckPacket: Sendable, Equatable {
    public var packetID: UInt16
    /// Granted QoS (0x00...0x02) or a failure (>= 0x80); 3.1.1 return codes share these values.
    public var reasonCodes: [ReasonCode]
    /// MQTT 5 only.
    public var properties: AckProperties

    public init(packetID: UInt16, reasonCodes: [ReasonCode], properties: AckProperties = AckProperties()) {
        self.packetID = packetID
        self.reasonCodes = reasonCodes
        self.properties = properties
    }
}
