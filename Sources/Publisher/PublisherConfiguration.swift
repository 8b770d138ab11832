public import MQTT

/// What the publisher's state machine needs to know of the agent's configuration. Durations are
/// monotonic; nothing here refers to files or sockets.
public struct PublisherConfiguration: Sendable {
    /// A sensor's name and the QoS its readings ask for, so a broker's lower Maximum QoS can be reported by name.
    public struct SensorQoS: Sendable, Equatable {
        public var name: String
        public var qos: QoS

        public init(name: String, qos: QoS) {
            self.name = name
            self.qos = qos
        }
    }

    /// The MQTT client id, as named in messages about takeovers.
    public var clientID: String
    /// `host:port` of the broker, as named in the service status.
    public var brokerAddress: String
    /// Where the retained status message goes.
    public var statusTopic: String
    /// Ceiling of the first reconnect delay; it doubles per failure up to `backoffMaximum`.
    public var backoffInitial: Duration
    public var backoffMaximum: Duration
    /// A connection that lasted this long resets the back-off.
    public var stableAfter: Duration
    /// How often the retained status is refreshed while connected.
    public var statusInterval: Duration
    /// How often acknowledgements and the session file are made durable (`spool.fsync`, at least once a second).
    public var checkpointInterval: Duration
    /// How often to tell systemd the publisher is alive, or nil outside a watchdog.
    public var watchdogInterval: Duration?
    /// How long a graceful shutdown waits for outstanding acknowledgements.
    public var drainTimeout: Duration
    /// How many readings the MQTT session may hold (in flight plus queued); the rest wait in the spool,
    /// so memory stays bounded however large the backlog.
    public var sessionWindow: Int
    /// A broker close this soon after CONNACK counts towards the client-id takeover pattern.
    public var takeoverWindow: Duration
    public var sensors: [SensorQoS]
    /// What the session does with readings above the broker's Maximum QoS (named in the warning).
    public var qosAboveMaximum: ClientSession.QoSAboveMaximumPolicy
    /// Topic filters the device listens to (its commands, say), subscribed at the first CONNACK; the MQTT session
    /// subscribes again whenever the broker may have lost them.
    public var subscriptions: [Subscription]

    public init(
        clientID: String,
        brokerAddress: String,
        statusTopic: String,
        backoffInitial: Duration = .seconds(1),
        backoffMaximum: Duration = .seconds(300),
        stableAfter: Duration = .seconds(60),
        statusInterval: Duration = .seconds(60),
        checkpointInterval: Duration = .seconds(1),
        watchdogInterval: Duration? = nil,
        drainTimeout: Duration = .seconds(5),
        sessionWindow: Int = 256,
        takeoverWindow: Duration = .seconds(10),
        sensors: [SensorQoS] = [],
        qosAboveMaximum: ClientSession.QoSAboveMaximumPolicy = .downgrade,
        subscriptions: [Subscription] = []
    ) {
        self.clientID = clientID
        self.brokerAddress = brokerAddress
        self.statusTopic = statusTopic
        self.backoffInitial = backoffInitial
        self.backoffMaximum = backoffMaximum
        self.stableAfter = stableAfter
        self.statusInterval = statusInterval
        self.checkpointInterval = checkpointInterval
        self.watchdogInterval = watchdogInterval
        self.drainTimeout = drainTimeout
        self.sessionWindow = sessionWindow
        self.takeoverWindow = takeoverWindow
        self.sensors = sensors
        self.qosAboveMaximum = qosAboveMaximum
        self.subscriptions = subscriptions
    }
}
