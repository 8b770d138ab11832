public import GPIO
public import MQTT
public import TLS

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
        /// MQTT user name, for brokers that check passwords (sent only inside the verified TLS session).
        public var username: String? = nil
        /// File with the MQTT password (first line); a secret, so it gets the key file's checks.
        public var passwordFile: String? = nil
    }

    public struct TLS: Sendable, Equatable {
        /// PEM trust anchors for the broker's chain; at least one of `caFile` and `caDir` is set.
        public var caFile: String?
        /// OpenSSL hashed folder of trust anchors (`openssl rehash`).
        public var caDir: String?
        public var certFile: String
        /// A PEM file path, a `pkcs11:` URI or a TPM `handle:0x…` (see `PrivateKeySource`).
        public var keyFile: String
        /// PKCS#11 module for `pkcs11:` keys; nil uses p11-kit-proxy (every module p11-kit knows).
        public var pkcs11Module: String?
        /// File holding the token PIN for `pkcs11:` keys; a secret, so it gets the key file's checks.
        public var pinFile: String?
        public var crlFile: String?
        public var crlMode: RevocationMode
        public var ocsp: OCSPMode
        /// Name the broker certificate must carry; defaults to `broker.host`.
        public var serverName: String
        public var minVersion: String
        /// How `device.id` is tied to the device certificate (brokers map the certificate to permissions).
        public var identity: DeviceIdentity.Rule
        /// Warn when the device certificate expires within this many days.
        public var expiryWarningDays: Int

        /// The key as the TLS layer sees it; `pin` is read by the caller (it is a secret in its own file).
        public func privateKeySource(pin: String?) -> PrivateKeySource {
            PrivateKeySource.parse(keyFile, module: pkcs11Module, pin: pin)
        }
    }

    public struct Time: Sendable, Equatable {
        public var requireSync: Bool
        /// The kernel's maximum error estimate must be below this for the clock to count as synchronized.
        public var maxErrorMilliseconds: Int
        /// How long to wait for synchronization before `onTimeout` applies; nil waits without a time-out.
        public var syncTimeout: Duration?
        public var onTimeout: ClockGate.TimeoutPolicy
        /// Wall-clock steps at least this large are logged and re-checked while running.
        public var stepThreshold: Duration
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
