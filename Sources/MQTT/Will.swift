/// The Will Message the server publishes if the device vanishes without a clean DISCONNECT.
public struct Will: Sendable, Equatable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: QoS
    public var retain: Bool
    /// MQTT 5 only: delay interval, message expiry, content type, payload format indicator, ...
    public var properties: WillProperties

    public init(
        topic: String,
        payload: [UInt8],
        qos: QoS = .atMostOnce,
        retain: Bool = false,
        properties: WillProperties = WillProperties()
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
    }
}
