/// UNSUBSCRIBE (§3.10): removes subscriptions by exact topic filter.
public struct UnsubscribePacket: Sendable, Equatable {
    public var packetID: UInt16
    /// At least one [MQTT-3.10.3-2].
    public var topicFilters: [String]
    /// MQTT 5 only.
    public var properties: UnsubscribeProperties

    public init(packetID: UInt16, topicFilters: [String], properties: UnsubscribeProperties = UnsubscribeProperties()) {
        self.packetID = packetID
        self.topicFilters = topicFilters
        self.properties = properties
    }
}
