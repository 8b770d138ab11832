// Typed MQTT 5 properties, one struct per packet family. A nil field is absent on the wire, which means
// "use the protocol default"; MQTT 3.1.1 ignores all of them.

/// Values of the Payload Format Indicator (0x01).
public enum PayloadFormat: UInt8, Sendable, Hashable {
    /// Unspecified bytes.
    case bytes = 0
    /// UTF-8 encoded character data.
    case utf8 = 1
}

/// CONNECT properties (§3.1.2.11): what the client asks of, and announces to, the server.
public struct ConnectProperties: Sendable, Equatable {
    /// Seconds the server keeps the session after disconnect; absent = 0, 0xFFFFFFFF = never expires.
    public var sessionExpiryInterval: UInt32?
    /// How many unacknowledged QoS 1/2 PUBLISHes the client accepts at once (absent = 65535).
    public var receiveMaximum: UInt16?
    /// Largest packet the client accepts.
    public var maximumPacketSize: UInt32?
    /// Highest topic alias the client accepts from the server (absent = 0 = none).
    public var topicAliasMaximum: UInt16?
    public var requestResponseInformation: Bool?
    public var requestProblemInformation: Bool?
    public var userProperties: [UserProperty]
    public var authenticationMethod: String?
    public var authenticationData: [UInt8]?

    public init(
        sessionExpiryInterval: UInt32? = nil,
        receiveMaximum: UInt16? = nil,
        maximumPacketSize: UInt32? = nil,
        topicAliasMaximum: UInt16? = nil,
        requestResponseInformation: Bool? = nil,
        requestProblemInformation: Bool? = nil,
        userProperties: [UserProperty] = [],
        authenticationMethod: String? = nil,
        authenticationData: [UInt8]? = nil
    ) {
        self.sessionExpiryInterval = sessionExpiryInterval
        self.receiveMaximum = receiveMaximum
        self.maximumPacketSize = maximumPacketSize
        self.topicAliasMaximum = topicAliasMaximum
        self.requestResponseInformation = requestResponseInformation
        self.requestProblemInformation = requestProblemInformation
        self.userProperties = userProperties
        self.authenticationMethod = authenticationMethod
        self.authenticationData = authenticationData
    }

    static let allowed: Set<PropertyID> = [
        .sessionExpiryInterval, .receiveMaximum, .maximumPacketSize, .topicAliasMaximum,
        .requestResponseInformation, .requestProblemInformation, .userProperty, .authenticationMethod,
        .authenticationData,
    ]

    init(_ bag: PropertyBag) {
        self.init(
            sessionExpiryInterval: bag.integer(.sessionExpiryInterval),
            receiveMaximum: bag.uint16(.receiveMaximum),
            maximumPacketSize: bag.integer(.maximumPacketSize),
            topicAliasMaximum: bag.uint16(.topicAliasMaximum),
            requestResponseInformation: bag.bool(.requestResponseInformation),
            requestProblemInformation: bag.bool(.requestProblemInformation),
            userProperties: bag.userProperties,
            authenticationMethod: bag.string(.authenticationMethod),
            authenticationData: bag.binary(.authenticationData)
        )
    }

    func write(to output: inout ByteWriter) throws(MQTTCodecError) {
        var w = PropertyWriter()
        w.fourByte(.sessionExpiryInterval, sessionExpiryInterval)
        w.twoByte(.receiveMaximum, receiveMaximum)
        w.fourByte(.maximumPacketSize, maximumPacketSize)
        w.twoByte(.topicAliasMaximum, topicAliasMaximum)
        w.bool(.requestResponseInformation, requestResponseInformation)
        w.bool(.requestProblemInformation, requestProblemInformation)
        try w.user(userProperties)
        try w.string(.authenticationMethod, authenticationMethod)
        try w.binary(.authenticationData, authenticationData)
        try w.write(to: &output)
    }
}

/// Will properties (§3.1.3.2): how the server treats the Will Message it publishes for us.
public struct WillProperties: Sendable, Equatable {
    /// Seconds the server waits after disconnect before publishing the Will.
    public var willDelayInterval: UInt32?
    public var payloadFormatIndicator: PayloadFormat?
    /// Lifetime of the Will Message in seconds.
    public var messageExpiryInterval: UInt32?
    public var contentType: String?
    public var responseTopic: String?
    public var correlationData: [UInt8]?
    public var userProperties: [UserProperty]

    public init(
        willDelayInterval: UInt32? = nil,
        payloadFormatIndicator: PayloadFormat? = nil,
        messageExpiryInterval: UInt32? = nil,
        contentType: String? = nil,
        responseTopic: String? = nil,
        correlationData: [UInt8]? = nil,
        userProperties: [UserProperty] = []
    ) {
        self.willDelayInterval = willDelayInterval
        self.payloadFormatIndicator = payloadFormatIndicator
        self.messageExpiryInterval = messageExpiryInterval
        self.contentType = contentType
        self.responseTopic = responseTopic
        self.correlationData = correlationData
        self.userProperties = userProperties
    }

    static let allowed: Set<PropertyID> = [
        .willDelayInterval, .payloadFormatIndicator, .messageExpiryInterval, .contentType, .responseTopic,
        .correlationData, .userProperty,
    ]

    init(_ bag: PropertyBag) {
        self.init(
            willDelayInterval: bag.integer(.willDelayInterval),
            payloadFormatIndicator: bag.uint8(.payloadFormatIndicator).flatMap(PayloadFormat.init(rawValue:)),
            messageExpiryInterval: bag.integer(.messageExpiryInterval),
            contentType: bag.string(.contentType),
            responseTopic: bag.string(.responseTopic),
            correlationData: bag.binary(.correlationData),
            userProperties: bag.userProperties
        )
    }

    func write(to output: inout ByteWriter) throws(MQTTCodecError) {
        var w = PropertyWriter()
        w.fourByte(.willDelayInterval, willDelayInterval)
        w.byte(.payloadFormatIndicator, payloadFormatIndicator?.rawValue)
        w.fourByte(.messageExpiryInterval, messageExpiryInterval)
        try w.string(.contentType, contentType)
        try w.string(.responseTopic, responseTopic)
        try w.binary(.correlationData, correlationData)
        try w.user(userProperties)
        try w.write(to: &output)
    }
}

/// CONNACK properties (§3.2.2.3): the limits and identity the server imposes for this connection.
public struct ConnAckProperties: Sendable, Equatable {
    /// Overrides the Session Expiry Interval we asked for.
    public var sessionExpiryInterval: UInt32?
    /// Server's in-flight window for our QoS 1/2 PUBLISHes (absent = 65535).
    public var receiveMaximum: UInt16?
    /// Highest QoS the server accepts (absent = 2).
    public var maximumQoS: QoS?
    /// Whether retained messages are supported (absent = true).
    public var retainAvailable: Bool?
    /// Largest packet the server accepts (absent = no limit beyond the protocol's).
    public var maximumPacketSize: UInt32?
    /// Client identifier chosen by the server when we sent an empty one [MQTT-3.2.2-16].
    public var assignedClientIdentifier: String?
    public var topicAliasMaximum: UInt16?
    public var reasonString: String?
    public var userProperties: [UserProperty]
    public var wildcardSubscriptionAvailable: Bool?
    public var subscriptionIdentifiersAvailable: Bool?
    public var sharedSubscriptionAvailable: Bool?
    /// Keep Alive the client must use instead of its own [MQTT-3.1.2-21].
    public var serverKeepAlive: UInt16?
    public var responseInformation: String?
    /// Where to reconnect for 0x9C/0x9D.
    public var serverReference: String?
    public var authenticationMethod: String?
    public var authenticationData: [UInt8]?

    public init(
        sessionExpiryInterval: UInt32? = nil,
        receiveMaximum: UInt16? = nil,
        maximumQoS: QoS? = nil,
        retainAvailable: Bool? = nil,
        maximumPacketSize: UInt32? = nil,
        assignedClientIdentifier: String? = nil,
        topicAliasMaximum: UInt16? = nil,
        reasonString: String? = nil,
        userProperties: [UserProperty] = [],
        wildcardSubscriptionAvailable: Bool? = nil,
        subscriptionIdentifiersAvailable: Bool? = nil,
        sharedSubscriptionAvailable: Bool? = nil,
        serverKeepAlive: UInt16? = nil,
        responseInformation: String? = nil,
        serverReference: String? = nil,
        authenticationMethod: String? = nil,
        authenticationData: [UInt8]? = nil
    ) {
        self.sessionExpiryInterval = sessionExpiryInterval
        self.receiveMaximum = receiveMaximum
        self.maximumQoS = maximumQoS
        self.retainAvailable = retainAvailable
        self.maximumPacketSize = maximumPacketSize
        self.assignedClientIdentifier = assignedClientIdentifier
        self.topicAliasMaximum = topicAliasMaximum
        self.reasonString = reasonString
        self.userProperties = userProperties
        self.wildcardSubscriptionAvailable = wildcardSubscriptionAvailable
        self.subscriptionIdentifiersAvailable = subscriptionIdentifiersAvailable
        self.sharedSubscriptionAvailable = sharedSubscriptionAvailable
        self.serverKeepAlive = serverKeepAlive
        self.responseInformation = responseInformation
        self.serverReference = serverReference
        self.authenticationMethod = authenticationMethod
        self.authenticationData = authenticationData
    }

    static let allowed: Set<PropertyID> = [
        .sessionExpiryInterval, .receiveMaximum, .maximumQoS, .retainAvailable, .maximumPacketSize,
        .assignedClientIdentifier, .topicAliasMaximum, .reasonString, .userProperty,
        .wildcardSubscriptionAvailable, .subscriptionIdentifierAvailable, .sharedSubscriptionAvailable,
        .serverKeepAlive, .responseInformation, .serverReference, .authenticationMethod, .authenticationData,
    ]

    init(_ bag: PropertyBag) {
        self.init(
            sessionExpiryInterval: bag.integer(.sessionExpiryInterval),
            receiveMaximum: bag.uint16(.receiveMaximum),
            maximumQoS: bag.uint8(.maximumQoS).flatMap(QoS.init(rawValue:)),
            retainAvailable: bag.bool(.retainAvailable),
            maximumPacketSize: bag.integer(.maximumPacketSize),
            assignedClientIdentifier: bag.string(.assignedClientIdentifier),
            topicAliasMaximum: bag.uint16(.topicAliasMaximum),
            reasonString: bag.string(.reasonString),
            userProperties: bag.userProperties,
            wildcardSubscriptionAvailable: bag.bool(.wildcardSubscriptionAvailable),
            subscriptionIdentifiersAvailable: bag.bool(.subscriptionIdentifierAvailable),
            sharedSubscriptionAvailable: bag.bool(.sharedSubscriptionAvailable),
            serverKeepAlive: bag.uint16(.serverKeepAlive),
            responseInformation: bag.string(.responseInformation),
            serverReference: bag.string(.serverReference),
            authenticationMethod: bag.string(.authenticationMethod),
            authenticationData: bag.binary(.authenticationData)
        )
    }

    func write(to output: inout ByteWriter) throws(MQTTCodecError) {
        var w = PropertyWriter()
        w.fourByte(.sessionExpiryInterval, sessionExpiryInterval)
        w.twoByte(.receiveMaximum, receiveMaximum)
        w.byte(.maximumQoS, maximumQoS?.rawValue)
        w.bool(.retainAvailable, retainAvailable)
        w.fourByte(.maximumPacketSize, maximumPacketSize)
        try w.string(.assignedClientIdentifier, assignedClientIdentifier)
        w.twoByte(.topicAliasMaximum, topicAliasMaximum)
        try w.string(.reasonString, reasonString)
        try w.user(userProperties)
        w.bool(.wildcardSubscriptionAvailable, wildcardSubscriptionAvailable)
        w.bool(.subscriptionIdentifierAvailable, subscriptionIdentifiersAvailable)
        w.bool(.sharedSubscriptionAvailable, sharedSubscriptionAvailable)
        w.twoByte(.serverKeepAlive, serverKeepAlive)
        try w.string(.responseInformation, responseInformation)
        try w.string(.serverReference, serverReference)
        try w.string(.authenticationMethod, authenticationMethod)
        try w.binary(.authenticationData, authenticationData)
        try w.write(to: &output)
    }
}

/// PUBLISH properties (§3.3.2.3): metadata travelling with an application message.
public struct PublishProperties: Sendable, Equatable {
    public var payloadFormatIndicator: PayloadFormat?
    /// Lifetime of the message in seconds.
    public var messageExpiryInterval: UInt32?
    /// Topic alias (never 0 [MQTT-3.3.2-8]); the session never sends one.
    public var topicAlias: UInt16?
    public var responseTopic: String?
    public var correlationData: [UInt8]?
    public var userProperties: [UserProperty]
    /// Set by the server only; a client MUST NOT send them [MQTT-3.3.4-6].
    public var subscriptionIdentifiers: [UInt32]
    public var contentType: String?

    public init(
        payloadFormatIndicator: PayloadFormat? = nil,
        messageExpiryInterval: UInt32? = nil,
        topicAlias: UInt16? = nil,
        responseTopic: String? = nil,
        correlationData: [UInt8]? = nil,
        userProperties: [UserProperty] = [],
        subscriptionIdentifiers: [UInt32] = [],
        contentType: String? = nil
    ) {
        self.payloadFormatIndicator = payloadFormatIndicator
        self.messageExpiryInterval = messageExpiryInterval
        self.topicAlias = topicAlias
        self.responseTopic = responseTopic
        self.correlationData = correlationData
        self.userProperties = userProperties
        self.subscriptionIdentifiers = subscriptionIdentifiers
        self.contentType = contentType
    }

    static let allowed: Set<PropertyID> = [
        .payloadFormatIndicator, .messageExpiryInterval, .topicAlias, .responseTopic, .correlationData,
        .userProperty, .subscriptionIdentifier, .contentType,
    ]

    init(_ bag: PropertyBag) {
        self.init(
            payloadFormatIndicator: bag.uint8(.payloadFormatIndicator).flatMap(PayloadFormat.init(rawValue:)),
            messageExpiryInterval: bag.integer(.messageExpiryInterval),
            topicAlias: bag.uint16(.topicAlias),
            responseTopic: bag.string(.responseTopic),
            correlationData: bag.binary(.correlationData),
            userProperties: bag.userProperties,
            subscriptionIdentifiers: bag.subscriptionIdentifiers,
            contentType: bag.string(.contentType)
        )
    }

    /// No property set: the common PUBLISH, written as a zero Property Length without a scratch writer.
    var isEmpty: Bool {
        payloadFormatIndicator == nil && messageExpiryInterval == nil && topicAlias == nil && responseTopic == nil
            && correlationData == nil && userProperties.isEmpty && subscriptionIdentifiers.isEmpty && contentType == nil
    }

    func write(to output: inout ByteWriter) throws(MQTTCodecError) {
        if isEmpty {
            output.writeUInt8(0)  // Property Length 0
            return
        }
        var w = PropertyWriter()
        w.byte(.payloadFormatIndicator, payloadFormatIndicator?.rawValue)
        w.fourByte(.messageExpiryInterval, messageExpiryInterval)
        if topicAlias == 0 { throw MQTTCodecError(.invalidProperty, "Topic Alias must not be 0 [MQTT-3.3.2-8]") }
        w.twoByte(.topicAlias, topicAlias)
        try w.string(.responseTopic, responseTopic)
        try w.binary(.correlationData, correlationData)
        try w.user(userProperties)
        for identifier in subscriptionIdentifiers {
            guard identifier > 0 && identifier <= UInt32(VariableByteInteger.maximum) else {
                throw MQTTCodecError(.invalidProperty, "Subscription Identifier \(identifier) out of range")
            }
            try w.variable(.subscriptionIdentifier, identifier)
        }
        try w.string(.contentType, contentType)
        try w.write(to: &output)
    }
}

/// Properties of PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK and UNSUBACK: diagnostics only.
public struct AckProperties: Sendable, Equatable {
    public var reasonString: String?
    public var userProperties: [UserProperty]

    public init(reasonString: String? = nil, userProperties: [UserProperty] = []) {
        self.reasonString = reasonString
        self.userProperties = userProperties
    }

    var isEmpty: Bool { reasonString == nil && userProperties.isEmpty }

    static let allowed: Set<PropertyID> = [.reasonString, .userProperty]

    init(_ bag: PropertyBag) {
        self.init(reasonString: bag.string(.reasonString), userProperties: bag.userProperties)
    }

    func write(to output: inout ByteWriter) throws(MQTTCodecError) {
        var w = PropertyWriter()
        try w.string(.reasonString, reasonString)
        try w.user(userProperties)
        try w.write(to: &output)
    }
}

/// SUBSCRIBE properties (§3.8.2.1).
public struct SubscribeProperties: Sendable, Equatable {
    /// Identifier the server echoes in matching PUBLISHes (1...268435455).
    public var subscriptionIdentifier: UInt32?
    public var userProperties: [UserProperty]

    public init(subscriptionIdentifier: UInt32? = nil, userProperties: [UserProperty] = []) {
        self.subscriptionIdentifier = subscriptionIdentifier
        self.userProperties = userProperties
    }

    static let allowed: Set<PropertyID> = [.subscriptionIdentifier, .userProperty]

    init(_ bag: PropertyBag) {
        self.init(subscriptionIdentifier: bag.integer(.subscriptionIdentifier), userProperties: bag.userProperties)
    }

    func write(to output: inout ByteWriter) throws(MQTTCodecError) {
        var w = PropertyWriter()
        if let identifier = subscriptionIdentifier,
            identifier == 0 || identifier > UInt32(VariableByteInteger.maximum)
        {
            throw MQTTCodecError(.invalidProperty, "Subscription Identifier \(identifier) out of range")
        }
        try w.variable(.subscriptionIdentifier, subscriptionIdentifier)
        try w.user(userProperties)
        try w.write(to: &output)
    }
}

/// UNSUBSCRIBE properties (§3.10.2.1).
public struct UnsubscribeProperties: Sendable, Equatable {
    public var userProperties: [UserProperty]

    public init(userProperties: [UserProperty] = []) { self.userProperties = userProperties }

    static let allowed: Set<PropertyID> = [.userProperty]

    init(_ bag: PropertyBag) { self.init(userProperties: bag.userProperties) }

    func write(to output: inout ByteWriter) throws(MQTTCodecError) {
        var w = PropertyWriter()
        try w.user(userProperties)
        try w.write(to: &output)
    }
}

/// DISCONNECT properties (§3.14.2.2).
public struct DisconnectProperties: Sendable, Equatable {
    /// Only a client may send it, and not non-zero after a zero in CONNECT (§3.14.2.2.2).
    public var sessionExpiryInterval: UInt32?
    public var reasonString: String?
    public var userProperties: [UserProperty]
    /// Where to reconnect for 0x9C/0x9D.
    public var serverReference: String?

    public init(
        sessionExpiryInterval: UInt32? = nil,
        reasonString: String? = nil,
        userProperties: [UserProperty] = [],
        serverReference: String? = nil
    ) {
        self.sessionExpiryInterval = sessionExpiryInterval
        self.reasonString = reasonString
        self.userProperties = userProperties
        self.serverReference = serverReference
    }

    var isEmpty: Bool {
        sessionExpiryInterval == nil && reasonString == nil && userProperties.isEmpty && serverReference == nil
    }

    static let allowed: Set<PropertyID> = [.sessionExpiryInterval, .reasonString, .userProperty, .serverReference]

    init(_ bag: PropertyBag) {
        self.init(
            sessionExpiryInterval: bag.integer(.sessionExpiryInterval),
            reasonString: bag.string(.reasonString),
            userProperties: bag.userProperties,
            serverReference: bag.string(.serverReference)
        )
    }

    func write(to output: inout ByteWriter) throws(MQTTCodecError) {
        var w = PropertyWriter()
        w.fourByte(.sessionExpiryInterval, sessionExpiryInterval)
        try w.string(.reasonString, reasonString)
        try w.user(userProperties)
        try w.string(.serverReference, serverReference)
        try w.write(to: &output)
    }
}

/// AUTH properties (§3.15.2.2), for enhanced authentication exchanges.
public struct AuthProperties: Sendable, Equatable {
    public var authenticationMethod: String?
    public var authenticationData: [UInt8]?
    public var reasonString: String?
    public var userProperties: [UserProperty]

    public init(
        authenticationMethod: String? = nil,
        authenticationData: [UInt8]? = nil,
        reasonString: String? = nil,
        userProperties: [UserProperty] = []
    ) {
        self.authenticationMethod = authenticationMethod
        self.authenticationData = authenticationData
        self.reasonString = reasonString
        self.userProperties = userProperties
    }

    var isEmpty: Bool {
        authenticationMethod == nil && authenticationData == nil && reasonString == nil && userProperties.isEmpty
    }

    static let allowed: Set<PropertyID> = [.authenticationMethod, .authenticationData, .reasonString, .userProperty]

    init(_ bag: PropertyBag) {
        self.init(
            authenticationMethod: bag.string(.authenticationMethod),
            authenticationData: bag.binary(.authenticationData),
            reasonString: bag.string(.reasonString),
            userProperties: bag.userProperties
        )
    }

    func write(to output: inout ByteWriter) throws(MQTTCodecError) {
        var w = PropertyWriter()
        try w.string(.authenticationMethod, authenticationMethod)
        try w.binary(.authenticationData, authenticationData)
        try w.string(.reasonString, reasonString)
        try w.user(userProperties)
        try w.write(to: &output)
    }
}
