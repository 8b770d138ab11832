/// PUBLISH (§3.3): one application message in either direction.
public struct PublishPacket: Sendable, Equatable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: QoS
    public var retain: Bool
    /// Set on re-delivery of a QoS 1/2 message [MQTT-3.3.1-1]; always false for QoS 0 [MQTT-3.3.1-2].
    public var dup: Bool
    /// Present (non-zero) exactly when qos > 0 [MQTT-2.2.1-2].
    public var packetID: UInt16?
    /// MQTT 5 only.
    public var properties: PublishProperties

    public init(
        topic: String,
        payload: [UInt8],
        qos: QoS = .atMostOnce,
        retain: Bool = false,
        dup: Bool = false,
        packetID: UInt16? = nil,
        properties: PublishProperties = PublishProperties()
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.dup = dup
        self.packetID = packetID
        self.properties = properties
    }
}
