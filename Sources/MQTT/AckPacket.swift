/// PUBACK, PUBREC, PUBREL and PUBCOMP (§3.4-§3.7): the QoS 1/2 handshake steps, which share one layout.
public struct AckPacket: Sendable, Equatable {
    public var packetID: UInt16
    /// MQTT 5 only; 3.1.1 always decodes as success. A value >= 0x80 ends the exchange [MQTT-4.4.0-2].
    public var reasonCode: ReasonCode
    public var properties: AckProperties

    public init(packetID: UInt16, reasonCode: ReasonCode = .success, properties: AckProperties = AckProperties()) {
        self.packetID = packetID
        self.reasonCode = reasonCode
        self.properties = properties
    }
}
