/// The choices that make one device's `pinpost.toml`: what the factory (or the demo) knows about the
/// device, and where its sensors come from. `DeviceConfigGenerator` turns it into text.
public struct DeviceConfigRequest: Sendable, Equatable {
    /// Where the `[[sensor]]` tables come from. There is no "none": a device without sensors starts,
    /// connects and publishes nothing real, which is a provisioning mistake, not a configuration.
    public enum Sensors: Sendable, Equatable {
        /// A board profile (`board/profiles/*.toml`): a complete config whose `[gpio]` settings and
        /// `[[sensor]]` tables are taken (its device, broker, TLS and spool sections are not).
        case profile(path: String)
        /// A file of `[[sensor]]` tables and nothing else.
        case tables(path: String)
    }

    public var deviceID: String
    public var brokerHost: String
    public var brokerPort: Int
    /// `"5"` or `"3.1.1"`.
    public var protocolVersion: String
    public var requireSync: Bool
    public var spoolDirectory: String
    /// The GPIO backend; nil takes the profile's, else `libgpiod`. `simulated` is only ever chosen explicitly.
    public var backend: AgentConfiguration.Backend?
    public var sensors: Sensors?
    /// Paths written for `tls.*`; relative ones resolve against the config's folder (`/etc/pinpost` installed).
    public var caFile: String
    public var certFile: String
    public var keyFile: String
    /// Who wrote the file, for its first comment line (e.g. `provisioning/pinpost-factory`).
    public var writtenBy: String

    public init(
        deviceID: String,
        brokerHost: String,
        brokerPort: Int = 8883,
        protocolVersion: String = "5",
        requireSync: Bool = true,
        spoolDirectory: String = "/var/lib/pinpost",
        backend: AgentConfiguration.Backend? = nil,
        sensors: Sensors?,
        caFile: String = "ca.crt",
        certFile: String = "device.crt",
        keyFile: String = "device.key",
        writtenBy: String = "pinpost config generate"
    ) {
        self.deviceID = deviceID
        self.brokerHost = brokerHost
        self.brokerPort = brokerPort
        self.protocolVersion = protocolVersion
        self.requireSync = requireSync
        self.spoolDirectory = spoolDirectory
        self.backend = backend
        self.sensors = sensors
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
        self.writtenBy = writtenBy
    }
}
