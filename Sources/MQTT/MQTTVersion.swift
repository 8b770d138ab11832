/// The protocol level carried in CONNECT; selects the wire format for every packet of a connection.
public enum MQTTVersion: UInt8, Sendable, Hashable {
    /// MQTT 3.1.1 (protocol level 4).
    case v3_1_1 = 4
    /// MQTT 5.0 (protocol level 5).
    case v5 = 5
}
