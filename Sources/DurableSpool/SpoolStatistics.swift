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

    public var isClean: Bool { tornTailBytes == 0 && corruptRegions.isEmpty && !ackStateDamaged }

    public var description: String {
        var parts = ["\(segments) segment(s), \(pending) reading(s) to deliver"]
        if tornTailBytes > 0 { parts.append("torn tail of \(tornTailBytes) bytes truncated") }
        if !corruptRegions.isEmpty {
            parts.append("\(corruptBytes) damaged bytes skipped in \(corruptRegions.joined(separator: ", "))")
        }
        if ackStateDamaged { parts.append("ack state unreadable: undelivered readings may be sent twice") }
        return parts.joined(separator: "; ")
    }
}

/// The outcome of storing one reading.
public enum SpoolAppendOutcome: Sendable, Equatable {
    case stored(seq: UInt64)
    /// Not stored (spool full under drop-newest, or the disk refused it); the seq is used up so a subscriber sees the gap.
    case dropped(seq: UInt64, reason: String)
}
