public import DurableSpool

/// What the publisher needs of the spool: records to deliver, their acknowledgements, checkpoints and
/// the figures of the status message.
///
/// `Spool` is the store of the agent. `pinpost bench` wraps it to time each reading's trip, which is why
/// this is a protocol and not the class itself: the measurement stays out of the production types.
public protocol ReadingStore: Sendable {
    /// Up to `limit` records not yet handed out, oldest first; they become outstanding.
    func takeUnsent(limit: Int) -> [SpoolRecord]
    /// The broker acknowledged (or finally refused: `rejected`) this reading; false if it was not outstanding.
    @discardableResult
    func acknowledge(_ seq: UInt64, rejected: Bool) -> Bool
    /// Records by seq, for resuming the MQTT session of the last run.
    func records(_ seqs: Set<UInt64>) -> [UInt64: SpoolRecord]
    /// Readings the resumed session already holds in flight: not to be handed out again.
    func markHandedOut(_ records: [SpoolRecord])
    /// Forces appended records to storage and persists acknowledgements.
    func checkpoint() throws(SpoolError)
    func statistics() -> SpoolStatistics
    /// What opening the spool found.
    var recovery: SpoolRecoveryReport { get }
    /// The seq counter's name, published with the status.
    var stream: String { get }
    /// The spool's folder; the MQTT session file lives beside the segments.
    var folder: String { get }
}

extension Spool: ReadingStore {}
