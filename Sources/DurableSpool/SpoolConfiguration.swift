public import SystemExtras

/// How the durable spool behaves: where, how big, what to drop when full, how often to fsync.
public struct SpoolConfiguration: Sendable, Equatable {
    public enum WhenFull: String, Sendable, Equatable {
        /// Keep the newest readings; the oldest unsent segment is discarded.
        case dropOldest = "drop-oldest"
        /// Keep what is spooled; new readings are refused until space frees up.
        case dropNewest = "drop-newest"
    }

    public enum Fsync: Sendable, Equatable {
        /// fsync after every append: nothing appended is lost even on power loss; slowest.
        case always
        /// Group commit: appends reach the kernel at once (they survive a crash of the agent),
        /// and are forced to storage at least this often (what a power cut may cost).
        case interval(Duration)
    }

    public var directory: String
    public var maxBytes: Int
    public var whenFull: WhenFull
    public var fsync: Fsync
    /// The boot this process runs in (`BootIdentity.current()`): after an unclean stop in the same boot every
    /// appended record is still there; after another boot, unsynced ones may be gone. nil: unknown, assume another boot.
    public var bootID: String?
    /// How many seqs are reserved (durably) at a time; see `SeqState`.
    public var seqReservation: UInt64

    public init(
        directory: String,
        maxBytes: Int = 64 << 20,
        whenFull: WhenFull = .dropOldest,
        fsync: Fsync = .interval(.seconds(1)),
        bootID: String? = BootIdentity.current(),
        seqReservation: UInt64 = 1024
    ) {
        self.directory = directory
        self.maxBytes = maxBytes
        self.whenFull = whenFull
        self.fsync = fsync
        self.bootID = bootID
        self.seqReservation = max(1, seqReservation)
    }

    /// Segments are a fraction of the limit so dropping the oldest frees a bounded amount.
    var segmentBytes: Int { min(max(maxBytes / 8, 16 << 10), 1 << 20) }
}
