/// Delivery guarantee of an application message; ordered so a broker's Maximum QoS can be compared against.
public enum QoS: UInt8, Sendable, Hashable, Comparable, CaseIterable {
    /// Fire and forget: no acknowledgement, no packet identifier.
    case atMostOnce = 0
    /// Acknowledged by PUBACK; may be delivered more than once.
    case atLeastOnce = 1
    /// Four-step PUBLISH/PUBREC/PUBREL/PUBCOMP handshake; delivered exactly once.
    case exactlyOnce = 2

    public static func < (lhs: QoS, rhs: QoS) -> Bool { lhs.rawValue < rhs.rawValue }
}
