public import MQTT
public import Timestamps

/// One sensor observation, as it travels from the backend to the broker.
public struct Reading: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        case digital(Bool)
        case number(Double)
        /// A physical quantity with its unit (`°C`, `%`, `kPa`, `mV`), published as `"unit"`.
        case measurement(Double, unit: String?)
        /// A counter's period: `pulses` in this interval (`value`), `total` since start (`count`) and
        /// pulses per second over the interval (`rate`).
        case pulses(UInt64, total: UInt64, rate: Double, unit: String?)
    }

    public var sensor: String
    public var value: Value
    /// What caused a digital reading (`rising`/`falling`), if an edge did.
    public var edge: String?
    /// When the reading was taken (not when it is sent).
    public var takenAt: UTCTime
    /// Whether the wall clock was known to be synchronized when the reading was taken.
    public var clockSynchronized: Bool
    /// The seq counter's name (16 hex digits); a new one means the counter started over.
    public var stream: String
    /// Per-device counter, +1 per reading, persisted across restarts; a gap at a subscriber means a lost reading.
    public var seq: UInt64
    public var qos: QoS

    /// The unit published with the value, when the sensor knows one.
    public var unit: String? {
        switch value {
        case .digital, .number: nil
        case .measurement(_, let unit), .pulses(_, _, _, let unit): unit
        }
    }

    public init(
        sensor: String,
        value: Value,
        edge: String?,
        takenAt: UTCTime,
        clockSynchronized: Bool,
        stream: String,
        seq: UInt64,
        qos: QoS
    ) {
        self.sensor = sensor
        self.value = value
        self.edge = edge
        self.takenAt = takenAt
        self.clockSynchronized = clockSynchronized
        self.stream = stream
        self.seq = seq
        self.qos = qos
    }
}
