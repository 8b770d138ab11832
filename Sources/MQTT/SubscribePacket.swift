/// What the server should do with retained messages when a subscription is made (MQTT 5).
public enum RetainHandling: UInt8, Sendable, Hashable {
    case sendOnSubscribe = 0
    case sendOnNewSubscribe = 1
    case doNotSend = 2
}

/// One topic filter and its options inside a SUBSCRIBE.
public struct Subscription: Sendable, Equatable {
    public var topicFilter: String
    /// Maximum QoS the server may use towards us for this subscription.
    public var qos: QoS
    /// MQTT 5: do not receive our own publications.
    public var noLocal: Bool
    /// MQTT 5: keep the RETAIN flag as published.
    public var retainAsPublished: Bool
    /// MQTT 5: retained-message delivery policy.
    public var retainHandling: RetainHandling

    public init(
        topicFilter: String,
        qos: QoS = .atLeastOnce,
        noLocal: Bool = false,
        retainAsPublished: Bool = false,
        retainHandling: RetainHandling = .sendOnSubscribe
    ) {
        self.topicFilter = topicFilter
        self.qos = qos
        self.noLocal = noLocal
        self.retainAsPublished = retainAsPublished
        self.retainHandling = retainHandling
    }
}

/// SUBSCRIBE (§3.8): asks the server for messages matching one or more topic filters.
public struct SubscribePacket: Sendable, Equatable {
    public var packetID: UInt16
    /// At least one [MQTT-3.8.3-3].
    public var subscriptions: [Subscription]
    /// MQTT 5 only.
    public var properties: SubscribeProperties

    public init(
        packetID: UInt16,
        subscriptions: [Subscription],
        properties: SubscribeProperties = SubscribeProperties()
    ) {
        self.packetID = packetID
        self.subscriptions = subscriptions
        self.properties = properties
    }
}
