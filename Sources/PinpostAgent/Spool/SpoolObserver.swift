/// Watches records leave the spool for the session and come back acknowledged.
///
/// Exists for `pinpost bench`, which needs per-reading ack latency and to know when every reading
/// was acknowledged, without a hook in the publisher loop: the spool sees both ends of a reading's
/// trip (hand-out to the MQTT session, and acknowledgement after PUBACK/PUBCOMP, or after the
/// PUBLISH was written for QoS 0). Optional; `nil` costs one branch per record. Calls come from the
/// publisher's task outside the spool's lock, so they must be cheap and must not call back into the spool.
public protocol SpoolObserver: Sendable {
    /// These seqs were just handed to the MQTT session, in order.
    func handedOut(_ seqs: [UInt64])
    /// The broker acknowledged this seq (or finally refused it: `rejected`).
    func acknowledged(_ seq: UInt64, rejected: Bool)
}
