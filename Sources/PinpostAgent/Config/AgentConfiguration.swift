public import ClockTrust
public import DurableSpool
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
        /// Most QoS 1/2 readings awaiting the broker's acknowledgement at once; must not exceed the broker's own limit,
        /// which an MQTT 3.1.1 broker cannot announce (Mosquitto drops the excess while acknowledging it).
        public var maxInflight: UInt16 = 20
        /// MQTT 5: send repeated topics as Topic Aliases when the broker allows them (fewer bytes per reading).
        public var topicAliases: Bool = true
        /// What to do with readings whose QoS exceeds the broker's Maximum QoS.
        public var qosAboveMaximum: QoSAboveMaximum = .downgrade
    }

    /// A broker that announces a Maximum QoS below a sensor's QoS either gets the reading at its maximum (weaker
    /// guarantee, reading kept) or not at all (the guarantee is kept, the reading is logged and dropped).
    public enum QoSAboveMaximum: String, Sendable, Equatable {
        case downgrade
        case refuse
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

    /// The `[gpio]` settings beyond the backend: where sysfs lives and the simulator's control socket.
    public struct GPIOSettings: Sendable, Equatable {
        /// Root of the sysfs tree (`/sys`); tests point it at a fake tree.
        public var sysfsRoot: String
        /// Unix socket of the simulator's live control (`pinpost sim set`); only the simulated backend listens.
        public var simSocket: String

        public init(sysfsRoot: String = "/sys", simSocket: String = "/var/lib/pinpost/sim.sock") {
            self.sysfsRoot = sysfsRoot
            self.simSocket = simSocket
        }
    }

    public struct Sensor: Sendable, Equatable {
        public enum Kind: String, Sendable, Equatable, CaseIterable {
            /// A GPIO input: a reading at start, per (debounced) change and optionally every `interval`.
            case digital
            /// Pulses on a GPIO input, published every `interval` as count and rate.
            case counter
            /// A GPIO input read every `interval` (no edge detection).
            case poll
            /// A 1-Wire DS18B20 thermometer read from sysfs every `interval`.
            case ds18b20
            /// A Linux IIO channel (ADC, BME280, ...) read from sysfs every `interval`.
            case iio

            /// Kinds that claim a GPIO line.
            public var usesLine: Bool { self == .digital || self == .counter || self == .poll }
        }

        public var name: String
        public var kind: Kind
        /// The GPIO line; `nil` for the sysfs kinds (`ds18b20`, `iio`).
        public var address: LineAddress?
        public var edges: EdgeDetection
        public var bias: LineBias
        public var activeLow: Bool
        public var qos: QoS
        public var simulate: Waveform?
        /// `digital`, `counter`: edges closer than this are bounces (monotonic time; zero = off).
        public var debounce: Duration
        /// Publishing period; required for `counter`, `poll`, `ds18b20`, `iio`; optional heartbeat for `digital`.
        public var interval: Duration?
        /// `ds18b20`: the `28-...` id (nil: the first found); `iio`: `iio:deviceN` or the device's `name`.
        public var device: String?
        /// `iio`: the channel attribute, e.g. `in_temp_input`, `in_voltage0_raw` or `in_humidityrelative`.
        public var channel: String?
        /// Unit published with the value; overrides the kind's own (`°C` for ds18b20, the IIO channel's).
        public var unit: String?

        public init(
            name: String,
            kind: Kind,
            address: LineAddress?,
            edges: EdgeDetection = .both,
            bias: LineBias = .asIs,
            activeLow: Bool = false,
            qos: QoS = .atLeastOnce,
            simulate: Waveform? = nil,
            debounce: Duration = .zero,
            interval: Duration? = nil,
            device: String? = nil,
            channel: String? = nil,
            unit: String? = nil
        ) {
            self.name = name
            self.kind = kind
            self.address = address
            self.edges = edges
            self.bias = bias
            self.activeLow = activeLow
            self.qos = qos
            self.simulate = simulate
            self.debounce = debounce
            self.interval = interval
            self.device = device
            self.channel = channel
            self.unit = unit
        }
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
    public var gpio: GPIOSettings = GPIOSettings()
    public var sensors: [Sensor]
    public var signing: Signing = Signing()
    /// `[renewal]`: certificate renewal and provisioning by claim (nil: neither).
    public var renewal: Renewal? = nil
    /// `[[output]]`, `[commands]`, `[homeassistant]` (AgentConfiguration+TwoWay.swift).
    public var outputs: [Output] = []
    public var commands = Commands()
    public var homeAssistant = HomeAssistant()
}
