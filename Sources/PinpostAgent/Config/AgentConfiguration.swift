public import GPIO
public import MQTT

/// Everything `pinpost.toml` says, validated, with paths resolved against the config file's folder.
public struct AgentConfiguration: Sendable, Equatable {
    public struct Device: Sendable, Equatable {
        /// MQTT client id and topic namespace; must equal the device certificate's CN.
        public var id: String
    }

    public struct Broker: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var protocolVersion: MQTTVersion
        public var keepAlive: Duration
        /// v5 Session Expiry Interval: how long the broker keeps the session while the device is away.
        public var sessionExpiry: UInt32
        public var connectTimeout: Duration
    }

    public struct TLS: Sendable, Equatable {
        public var caFile: String
        public var certFile: String
        public var keyFile: String
        public var crlFile: String?
        /// Name the broker certificate must carry; defaults to `broker.host`.
        public var serverName: String
        public var minVersion: String
    }

    public struct Time: Sendable, Equatable {
        public var requireSync: Bool
        /// The kernel's maximum error estimate must be below this for the clock to count as synchronized.
        public var maxErrorMilliseconds: Int
    }

    /// Reconnect pacing: exponential with full jitter between `initial` and `max`.
    public struct Reconnect: Sendable, Equatable {
        public var initial: Duration
        public var max: Duration
        /// A connection that lasted this long resets the back-off.
        public var stableAfter: Duration
    }

    public enum Backend: String, Sendable, Equatable {
        case simulated
        case libgpiod
    }

    public struct Sensor: Sendable, Equatable {
        public enum Kind: String, Sendable, Equatable {
            case digital
        }

        public var name: String
        public var kind: Kind
        public var address: LineAddress
        public var edges: EdgeDetection
        public var bias: LineBias
        public var activeLow: Bool
        public var qos: QoS
        public var simulate: Waveform?
    }

    /// The file this configuration was read from (absolute), for messages.
    public var file: String
    public var device: Device
    public var broker: Broker
    public var tls: TLS
    public var time: Time
    public var spool: SpoolConfiguration
    public var reconnect: Reconnect
    /// How often the retained status message is refreshed while connected.
    public var statusInterval: Duration
    public var backend: Backend
    public var sensors: [Sensor]
}
