extension ClientSession {
    /// What to do with a publish whose QoS exceeds the server's Maximum QoS [MQTT-3.2.2-11].
    public enum QoSAboveMaximumPolicy: Sendable, Equatable {
        /// Send at the server's Maximum QoS instead (weaker guarantee, but the message goes out).
        case downgrade
        /// Refuse with `PublishError.qosNotSupported` (or `deliveryFailed(.qosNotSupported)` if already queued).
        case refuse
    }

    /// Fixed parameters of a client session; see each field for its wire meaning.
    public struct Configuration: Sendable {
        public var clientID: String
        public var version: MQTTVersion
        /// 0 = off; encoded as whole seconds (a positive value below one second becomes 1 s, above 65535 s clamps).
        public var keepAlive: Duration
        /// Clean Session / Clean Start. The agent uses false to keep QoS 1/2 state across reconnects.
        /// Forced to true for MQTT 3.1.1 with an empty client identifier [MQTT-3.1.3-7], and for MQTT 5 on the
        /// connection after the session closed because the server claimed a session this client holds no state for
        /// (Session Present=1 without restored or earlier state [MQTT-3.2.2-4]).
        public var cleanStart: Bool
        /// MQTT 5 Session Expiry Interval in seconds (nil = absent = 0: session ends at disconnect).
        public var sessionExpiry: UInt32?
        public var will: Will?
        public var username: String?
        public var password: [UInt8]?
        /// MQTT 5: how many unacknowledged incoming QoS 1/2 PUBLISHes we accept (nil = 65535).
        public var receiveMaximum: UInt16?
        /// Largest packet we accept (announced in MQTT 5, enforced by the decoder in both versions).
        public var maximumPacketSize: UInt32?
        /// How long to wait for PINGRESP before declaring the connection dead.
        public var pingTimeout: Duration
        /// How long to wait for CONNACK after CONNECT. Apart from `pingTimeout` because the two fail for different
        /// reasons: a broker that never answers CONNECT (overloaded, or not an MQTT listener behind TLS) is not a
        /// dead link, and the operator's fix differs.
        public var connAckTimeout: Duration
        /// Reaction to a publish above the server's Maximum QoS.
        public var qosAboveMaximum: QoSAboveMaximumPolicy
        /// Most outgoing QoS 1/2 messages unacknowledged at once (nil: only the server's limit). MQTT 5 servers
        /// announce their Receive Maximum and the smaller of the two applies; an MQTT 3.1.1 server cannot, yet may
        /// still have one: Mosquitto 2.0 refuses a QoS 1 PUBLISH beyond its `max_inflight_messages` (default 20) and
        /// answers a 3.1.1 client with a plain PUBACK, so the message is lost without a trace.
        public var maximumInFlight: UInt16?
        /// MQTT 5: replace a repeated topic name by a Topic Alias when the server allows aliases (its Topic Alias
        /// Maximum), saving the topic's bytes on every later PUBLISH of that connection. Mappings never outlive
        /// the connection [MQTT-3.3.2-7].
        public var useTopicAliases: Bool

        public init(
            clientID: String,
            version: MQTTVersion,
            keepAlive: Duration = .seconds(60),
            cleanStart: Bool = false,
            sessionExpiry: UInt32? = nil,
            will: Will? = nil,
            username: String? = nil,
            password: [UInt8]? = nil,
            receiveMaximum: UInt16? = nil,
            maximumPacketSize: UInt32? = 1 << 20,
            pingTimeout: Duration = .seconds(10),
            qosAboveMaximum: QoSAboveMaximumPolicy = .downgrade,
            useTopicAliases: Bool = true,
            maximumInFlight: UInt16? = nil,
            connAckTimeout: Duration = .seconds(10)
        ) {
            self.clientID = clientID
            self.version = version
            self.keepAlive = keepAlive
            self.cleanStart = cleanStart
            self.sessionExpiry = sessionExpiry
            self.will = will
            self.username = username
            self.password = password
            self.receiveMaximum = receiveMaximum
            self.maximumPacketSize = maximumPacketSize
            self.pingTimeout = pingTimeout
            self.connAckTimeout = connAckTimeout
            self.qosAboveMaximum = qosAboveMaximum
            self.useTopicAliases = useTopicAliases
            self.maximumInFlight = maximumInFlight
        }

        /// Keep Alive as sent in CONNECT.
        var keepAliveSeconds: UInt16 {
            let (seconds, attoseconds) = keepAlive.components
            if seconds <= 0 { return seconds == 0 && attoseconds > 0 ? 1 : 0 }
            return seconds >= Int64(UInt16.max) ? UInt16.max : UInt16(seconds)
        }
    }
}
