/// What the status message reports about the spool.
public struct SpoolStatistics: Sendable, Equatable {
    /// Readings stored and not yet acknowledged by the broker.
    public var depth: Int
    public var bytes: Int
    /// Readings discarded because the spool was full (or the disk was), since the spool was created.
    public var dropped: UInt64
    /// Readings the broker refused with a failure reason code (final, not retried).
    public var rejected: UInt64
    /// When the oldest reading not yet acknowledged was taken (ms since the epoch), if any.
    public var oldestPendingTakenAt: Int64?
}

/// What recovery found at startup.
public struct SpoolRecoveryReport: Sendable, Equatable, CustomStringConvertible {
    public var segments = 0
    public var pending = 0
    /// Bytes cut from the end of the last segment: a record torn by a crash or power cut.
    public var tornTailBytes = 0
    /// Damaged regions skipped (their readings cannot be delivered), with their byte counts.
    public var corruptRegions: [String] = []
    public var corruptBytes = 0
    /// The ack file was unreadable; delivery restarts from the oldest record (duplicates, never loss).
    public var ackStateDamaged = false
    /// How the previous run ended, as far as the spool can tell.
    public var previousRun = PreviousRun.none
    /// Seqs never used because a power cut may have lost readings already published with them: numbering
    /// resumed above the last reservation (so a seq is never reused), and these form a gap at subscribers.
    public var seqSkipped: UInt64 = 0
    /// The counter started over (or its history was lost): readings carry a new `stream` id.
    public var newStream = false

    /// How the previous run of the agent ended.
    public enum PreviousRun: String, Sendable, Equatable {
        /// There was none: a new spool.
        case none
        /// It shut down cleanly and recorded its last seq.
        case clean
        /// It stopped without shutting down (killed, crashed) in this same boot: every appended record survived.
        case crashed
        /// It stopped without shutting down in an earlier boot (a power cut or a reset): records appended since
        /// the last fsync may be lost (`spool.fsync` bounds how many).
        case powerLoss = "power-loss"
        /// The spool's seq state was missing or damaged: how it ended is unknown.
        case unknown
    }

    public var isClean: Bool { tornTailBytes == 0 && corruptRegions.isEmpty && !ackStateDamaged }

    /// Nothing worth reporting: a new spool, or a clean shutdown found undamaged.
    public var isCleanStart: Bool { isClean && (previousRun == .none || previousRun == .clean) && seqSkipped == 0 }

    public var description: String {
        var parts = ["\(segments) segment(s), \(pending) reading(s) to deliver"]
        if tornTailBytes > 0 { parts.append("torn tail of \(tornTailBytes) bytes truncated") }
        if !corruptRegions.isEmpty {
            parts.append("\(corruptBytes) damaged bytes skipped in \(corruptRegions.joined(separator: ", "))")
        }
        if ackStateDamaged { parts.append("ack state unreadable: undelivered readings may be sent twice") }
        switch previousRun {
        case .none, .clean: break
        case .crashed: parts.append("the last run did not shut down cleanly (same boot: nothing appended was lost)")
        case .powerLoss: parts.append("the last run ended with the machine (power cut or reset)")
        case .unknown: parts.append("seq state missing or unreadable")
        }
        if seqSkipped > 0 { parts.append("\(seqSkipped) seq(s) skipped so that none is reused") }
        if newStream && previousRun != .none { parts.append("the seq counter started over: new stream id") }
        return parts.joined(separator: "; ")
    }
}

/// The outcome of storing one reading.
public enum SpoolAppendOutcome: Sendable, Equatable {
    case stored(seq: UInt64)
    /// Not stored (spool full under drop-newest, or the disk refused it); the seq is used up so a subscriber sees the gap.
    case dropped(seq: UInt64, reason: String)
}
