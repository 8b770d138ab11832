public import TLS

/// What the publisher reports about its connections to services that act on the device's identity (certificate
/// renewal): each event names the TLS context (identity) the connection was made with, so a report about an attempt
/// with an older identity cannot be taken for one about the new.
public enum PublisherConnectionEvent: Sendable {
    /// The broker accepted the MQTT connection (CONNACK) made with this identity.
    case accepted(TLSContext)
    /// A connection attempt with this identity ended before the broker accepted it: TCP or TLS failed, the broker
    /// refused the device's certificate, or it refused CONNECT. `reason` says why, as the publisher's log does.
    case refused(TLSContext, reason: String)
}
