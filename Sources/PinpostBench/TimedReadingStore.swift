internal import DurableSpool
internal import PinpostAgent

/// The bench's spool: the real one, plus the time of each reading's hand-out to the MQTT session and of
/// its acknowledgement, recorded in an `AckTimeline`. The publisher drives it as it drives the agent's spool.
struct TimedReadingStore: ReadingStore {
    let spool: Spool
    let timeline: AckTimeline

    func takeUnsent(limit: Int) -> [SpoolRecord] {
        let taken = spool.takeUnsent(limit: limit)
        if !taken.isEmpty {
            timeline.handedOut(taken.map(\.seq))
        }
        return taken
    }

    func acknowledge(_ seq: UInt64, rejected: Bool) -> Bool {
        let known = spool.acknowledge(seq, rejected: rejected)
        if known {
            timeline.acknowledged(seq, rejected: rejected)
        }
        return known
    }

    func records(_ seqs: Set<UInt64>) -> [UInt64: SpoolRecord] { spool.records(seqs) }
    func markHandedOut(_ records: [SpoolRecord]) { spool.markHandedOut(records) }
    func checkpoint() throws(SpoolError) { try spool.checkpoint() }
    func statistics() -> SpoolStatistics { spool.statistics() }
    var recovery: SpoolRecoveryReport { spool.recovery }
    var stream: String { spool.stream }
    var folder: String { spool.folder }
}
