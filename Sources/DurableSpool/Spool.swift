internal import DequeModule
internal import Synchronization
internal import SystemExtras

/// The durable spool: every reading is appended here before it is published and removed only
/// after the broker acknowledged it.
///
/// Append-only segment files hold checksummed records in `seq` order. A cursor hands records to the
/// MQTT session as its window frees up, so memory stays bounded however long the broker is away.
/// Acknowledgements are tracked as a watermark plus out-of-order seqs and persisted at each
/// checkpoint; fully acknowledged segments are then deleted. Shared by the sensor tasks (append)
/// and the publisher (hand out, acknowledge), hence the lock.
public final class Spool: Sendable {
    private let storage: Mutex<SpoolStorage>
    public let configuration: SpoolConfiguration
    public let recovery: SpoolRecoveryReport
    /// Opens the spool under `configuration.directory/spool`, recovering what a crash left behind.
    public init(configuration: SpoolConfiguration) throws(SpoolError) {
        self.configuration = configuration
        var report = SpoolRecoveryReport()
        let storage = try SpoolStorage(configuration: configuration, report: &report)
        self.recovery = report
        self.stream = storage.stream
        self.newestRecordAtOpen = storage.newestRecordAtOpen
        self.storage = Mutex(storage)
    }

    /// The last seq handed out (recovered at startup).
    public var lastSeq: UInt64 { storage.withLock { $0.ack.lastSeq } }

    /// The seq counter's name, 16 hex digits: (device, stream, seq) names exactly one reading. It changes only
    /// when the counter starts over, so a consumer that drops repeats by seq keys them by stream too.
    public let stream: String

    /// Assigns the next seq, builds the record with it and appends it.
    public func append(
        qos: UInt8,
        takenAtMilliseconds: Int64,
        topic: String,
        payload makePayload: @Sendable (UInt64) -> [UInt8]
    ) -> SpoolAppendOutcome {
        storage.withLock {
            $0.append(qos: qos, takenAt: takenAtMilliseconds, topic: topic) { SpoolContent(payload: makePayload($0)) }
        }
    }

    /// Assigns the next seq and appends what `makeContent` builds with it: a payload with attributes and a note.
    /// `makeContent` runs under the spool's lock, once per seq, in seq order (a chain over the readings can be
    /// built there); the record may still be dropped after it ran (a full spool, a failed write).
    public func append(
        qos: UInt8,
        takenAtMilliseconds: Int64,
        topic: String,
        content makeContent: @Sendable (UInt64) -> SpoolContent
    ) -> SpoolAppendOutcome {
        storage.withLock { $0.append(qos: qos, takenAt: takenAtMilliseconds, topic: topic, makeContent: makeContent) }
    }

    /// The record with the highest seq found when the spool was opened (nil for an empty spool): where an
    /// appender that chains its records picks up after a restart.
    public let newestRecordAtOpen: SpoolRecord?

    /// Up to `limit` records not yet handed out for delivery, oldest first; they become outstanding.
    public func takeUnsent(limit: Int) -> [SpoolRecord] {
        storage.withLock { $0.takeUnsent(limit: limit) }
    }

    /// The reading was delivered (or finally refused: `rejected`): it is done. Returns false for a seq
    /// that was not outstanding (already acknowledged, or dropped with a full spool's oldest segment).
    @discardableResult
    public func acknowledge(_ seq: UInt64, rejected: Bool = false) -> Bool {
        storage.withLock { $0.acknowledge(seq, rejected: rejected) }
    }

    /// Records by seq, read from the segments (for resuming deliveries that were in flight at the last stop).
    public func records(_ seqs: Set<UInt64>) -> [UInt64: SpoolRecord] {
        guard !seqs.isEmpty else { return [:] }
        return storage.withLock { $0.records(seqs) }
    }

    /// Readings a resumed delivery session already holds: not to be handed out again.
    public func markHandedOut(_ records: [SpoolRecord]) {
        storage.withLock { $0.markHandedOut(records) }
    }

    /// The folder of the segments and the ack file; other durable state of the agent may live beside them.
    public var folder: String { configuration.directory + "/spool" }

    /// Forces appended records to storage, persists acknowledgements, deletes fully delivered segments.
    public func checkpoint() throws(SpoolError) {
        try storage.withLock { storage throws(SpoolError) in try storage.checkpoint() }
    }

    public func statistics() -> SpoolStatistics {
        storage.withLock { $0.statistics() }
    }

    /// The last call on a spool: checkpoints and records a clean shutdown with the exact last seq, so the next
    /// start continues the count without a gap. A spool never closed counts as stopped uncleanly.
    public func close() throws(SpoolError) {
        try storage.withLock { storage throws(SpoolError) in try storage.close() }
    }
}

/// The spool's state; only touched under the lock.
struct SpoolStorage {
    struct Segment {
        var firstSeq: UInt64
        var lastSeq: UInt64
        var file: SpoolFile
        var path: String { file.path }
    }

    struct Cursor {
        var segment: Int
        var offset: Int
    }

    let configuration: SpoolConfiguration
    let folder: String
    private var segments: [Segment] = []
    private var cursor = Cursor(segment: 0, offset: 0)
    private(set) var ack = AckState()
    /// Seqs handed to the session and not yet acknowledged, with when they were taken.
    private var outstanding: [UInt64: Int64] = [:]
    /// The same seqs in ascending order (hand-out order, except that readings a restored MQTT
    /// session holds are marked first and may be above later hand-outs: those are inserted in
    /// order). Entries already acknowledged are skipped lazily from `outstandingHead`, so finding
    /// the lowest outstanding seq is amortised O(1) per acknowledgement instead of a scan of the
    /// whole in-flight window.
    private var outstandingOrder: [UInt64] = []
    private var outstandingHead = 0
    /// Highest seq handed to the session; everything at or below is outstanding or done.
    private var handedUpTo: UInt64 = 0
    /// Records appended while the cursor was caught up, served without reading the disk.
    /// A ring buffer: records are served from its front one by one, which must not shift the rest.
    private var recent = Deque<(segmentFirstSeq: UInt64, offset: Int, record: SpoolRecord)>()
    /// The most `recent` has held since it was last empty: once a backlog (up to 1 024 records) is served, its
    /// storage goes back to the allocator rather than staying for good.
    private var recentPeak = 0
    /// Records' room `recent` keeps when it empties: steady appends reuse it without reallocating.
    private static let recentKeptCapacity = 256
    private var pendingCount = 0
    private var rejected: UInt64 = 0
    private var dirty = false
    private var ackDirty = false
    /// The seq counter's name (see `SeqState`).
    private(set) var stream = ""
    /// No seq above this has been handed out; raised durably before one is.
    private var reserved: UInt64 = 0
    /// The record with the highest seq recovery found.
    private(set) var newestRecordAtOpen: SpoolRecord?

    init(configuration: SpoolConfiguration, report: inout SpoolRecoveryReport) throws(SpoolError) {
        self.configuration = configuration
        folder = configuration.directory + "/spool"
        do throws(SystemError) {
            try FileSystem.createDirectory(folder)
        } catch {
            throw SpoolError(
                .folderUnusable,
                cause: error,
                message:
                    "spool.dir: \(error); fix: create the folder or point spool.dir at a folder the agent may write"
            )
        }
        let ackPath = folder + "/ack"
        if FileSystem.exists(ackPath) {
            if let bytes = try? FileSystem.readFile(ackPath, limit: 16 << 20), let state = AckState.decode(bytes) {
                ack = state
            } else {
                report.ackStateDamaged = true
            }
        }
        let ackFileExisted = FileSystem.exists(ackPath)
        try recoverSegments(report: &report)
        try recoverCounter(report: &report, freshSpool: !ackFileExisted && segments.isEmpty)
        handedUpTo = ack.watermark
        positionCursorAfterWatermark()
        report.segments = segments.count
        report.pending = pendingCount
        if segments.isEmpty {
            do throws(SystemError) {
                try openNewSegment(firstSeq: ack.lastSeq + 1)
            } catch {
                throw SpoolError(
                    .segmentNotCreated,
                    cause: error,
                    message: "spool: \(error); fix: check the permissions and free space of spool.dir"
                )
            }
        }
    }

    // MARK: Recovery

    /// Decides where numbering resumes, from the segments, the ack file and `spool/seq`, and records this
    /// run as unclean until `close()`; see `SeqState` for why each case is safe.
    private mutating func recoverCounter(report: inout SpoolRecoveryReport, freshSpool: Bool) throws(SpoolError) {
        let path = folder + "/seq"
        let seqFileExisted = FileSystem.exists(path)
        let previous = seqFileExisted ? (try? FileSystem.readFile(path, limit: 4096)).flatMap(SeqState.decode) : nil
        let recovered = ack.lastSeq
        var known = recovered
        var next: UInt64
        if let previous {
            stream = previous.stream
            known = max(recovered, previous.lastSeq)
            let sameBoot = previous.boot != nil && previous.boot == configuration.bootID
            if previous.clean {
                report.previousRun = .clean
                next = known + 1
            } else {
                report.previousRun = sameBoot ? .crashed : .powerLoss
                // Another boot may have lost what was appended since the last fsync (unless every append was
                // synced); without the ack file the last seq is not known either. Then resume above the
                // reservation: a published seq is never reused, at the price of a gap.
                let lastSeqUncertain = (!sameBoot && configuration.fsync != .always) || report.ackStateDamaged
                next = lastSeqUncertain ? max(known, previous.reserved) + 1 : known + 1
            }
        } else {
            // A new spool, a spool from a version without seq state, or damage: the counter's history cannot be
            // vouched for, so it gets a new name; numbering goes on from what the segments and ack file say.
            report.previousRun = freshSpool && !seqFileExisted && !report.ackStateDamaged ? .none : .unknown
            report.newStream = true
            stream = SeqState.newStreamID()
            next = recovered + 1
        }
        report.seqSkipped = next - 1 - known
        ack.lastSeq = next - 1
        do {
            try saveCounter(reserved: ack.lastSeq + configuration.seqReservation, clean: false)
        } catch {
            throw SpoolError(
                .counterNotSaved,
                cause: error,
                message:
                    "spool: cannot record the seq counter in \(path): \(error); fix: check free space and permissions of spool.dir"
            )
        }
    }

    /// Writes `spool/seq` durably; `reserved` is kept only once the write succeeded.
    private mutating func saveCounter(reserved newReserved: UInt64, clean: Bool) throws(SystemError) {
        let state = SeqState(
            stream: stream,
            reserved: newReserved,
            lastSeq: ack.lastSeq,
            boot: configuration.bootID,
            clean: clean
        )
        try FileSystem.writeFileAtomically(folder + "/seq", state.encoded())
        reserved = newReserved
    }

    private mutating func recoverSegments(report: inout SpoolRecoveryReport) throws(SpoolError) {
        let names = FileSystem.listDirectory(folder).filter { $0.hasSuffix(".seg") }.sorted()
        for name in names {
            guard let firstSeq = UInt64(name.dropLast(4)) else { continue }
            let path = folder + "/" + name
            let file: SpoolFile
            let bytes: [UInt8]
            do throws(SystemError) {
                file = try SpoolFile(path: path, create: false)
                bytes = try file.read(offset: 0, count: file.size)
            } catch {
                throw SpoolError(
                    .segmentUnreadable,
                    cause: error,
                    message: "spool: \(error); fix: check the permissions of spool.dir"
                )
            }
            var offset = 0
            var lastSeq: UInt64 = 0
            var validEnd = 0
            var records = 0
            while offset < bytes.count {
                switch SpoolRecord.decode(bytes[offset...]) {
                case .record(let record, let size):
                    if record.seq > ack.watermark && !ack.doneAbove.contains(record.seq) {
                        pendingCount += 1
                    }
                    lastSeq = max(lastSeq, record.seq)
                    if record.seq >= (newestRecordAtOpen?.seq ?? 0) { newestRecordAtOpen = record }
                    records += 1
                    offset += size
                    validEnd = offset
                case .incomplete:
                    // Only a tail can be incomplete; anything after it is not a record either.
                    report.tornTailBytes += bytes.count - offset
                    offset = bytes.count
                case .corrupt:
                    let next = Self.nextRecordStart(in: bytes, after: offset)
                    let skipped = (next ?? bytes.count) - offset
                    if next == nil {
                        // Damage running to the end of the file: treat as a torn tail.
                        report.tornTailBytes += skipped
                    } else {
                        report.corruptRegions.append("\(name) at byte \(offset) (\(skipped) bytes)")
                        report.corruptBytes += skipped
                        validEnd = next!
                    }
                    offset = next ?? bytes.count
                }
            }
            if validEnd < bytes.count {
                do throws(SystemError) {
                    try file.truncate(to: validEnd)
                } catch {
                    throw SpoolError(
                        .repairFailed,
                        cause: error,
                        message: "spool: \(error); fix: check free space and permissions of spool.dir"
                    )
                }
            }
            if records == 0 && validEnd == 0 {
                FileSystem.remove(path)
                continue
            }
            ack.lastSeq = max(ack.lastSeq, lastSeq)
            segments.append(Segment(firstSeq: firstSeq, lastSeq: lastSeq, file: file))
        }
    }

    /// The next offset after `offset` where a whole valid record starts, if any.
    private static func nextRecordStart(in bytes: [UInt8], after offset: Int) -> Int? {
        var candidate = offset + 1
        while candidate + SpoolRecord.headerSize <= bytes.count {
            if bytes[candidate] == 0x50, case .record = SpoolRecord.decode(bytes[candidate...]) {
                return candidate
            }
            candidate += 1
        }
        return nil
    }

    private mutating func positionCursorAfterWatermark() {
        cursor = Cursor(segment: 0, offset: 0)
        while cursor.segment < segments.count - 1 && segments[cursor.segment].lastSeq <= ack.watermark {
            cursor.segment += 1
        }
    }

    // MARK: Append

    mutating func append(
        qos: UInt8,
        takenAt: Int64,
        topic: String,
        makeContent: (UInt64) -> SpoolContent
    ) -> SpoolAppendOutcome {
        let seq = ack.lastSeq + 1
        if seq > reserved {
            do {
                try saveCounter(reserved: seq - 1 + configuration.seqReservation, clean: false)
            } catch {
                ack.lastSeq = seq
                ackDirty = true
                return drop(seq, reason: "cannot reserve seqs in spool/seq: \(error)")
            }
        }
        ack.lastSeq = seq
        ackDirty = true
        let content = makeContent(seq)
        let record = SpoolRecord(
            seq: seq,
            takenAtMilliseconds: takenAt,
            qos: qos,
            topic: topic,
            payload: content.payload,
            attributes: content.attributes,
            note: content.note
        )
        guard record.extrasFit else {
            return drop(seq, reason: "the reading's attributes or note exceed the spool record's limits")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(record.encodedSize)
        record.encode(into: &bytes)

        if configuration.whenFull == .dropNewest && totalBytes + bytes.count > configuration.maxBytes {
            return drop(
                seq,
                reason: "spool full (spool.max_bytes \(configuration.maxBytes), spool.when_full = drop-newest)"
            )
        }
        do {
            if let current = segments.last, current.file.size > 0,
                current.file.size + bytes.count > configuration.segmentBytes
            {
                try openNewSegment(firstSeq: seq)
            }
            try write(bytes, record: record)
        } catch let failure as SystemError
            where failure.isDiskFull && configuration.whenFull == .dropOldest && segments.count > 1
        {
            // The disk is full: the same policy as a full spool, then one more try.
            dropOldestSegment()
            do { try write(bytes, record: record) } catch {
                return drop(seq, reason: "\(error)")
            }
        } catch {
            return drop(seq, reason: "\(error)")
        }
        if configuration.whenFull == .dropOldest {
            while totalBytes > configuration.maxBytes && segments.count > 1 {
                dropOldestSegment()
            }
        }
        return .stored(seq: seq)
    }

    private mutating func write(_ bytes: [UInt8], record: SpoolRecord) throws {
        var segment = segments[segments.count - 1]
        let offset = segment.file.size
        try segment.file.append(bytes)
        if configuration.fsync == .always {
            try segment.file.sync()
        } else {
            dirty = true
        }
        segment.lastSeq = record.seq
        segments[segments.count - 1] = segment
        pendingCount += 1
        if recent.count < 1024 && (isCaughtUp(beforeOffset: offset) || !recent.isEmpty) {
            recent.append((segment.firstSeq, offset, record))
            recentPeak = max(recentPeak, recent.count)
        }
    }

    /// True when the cursor points exactly at `offset` in the newest segment (nothing unsent before it).
    private func isCaughtUp(beforeOffset offset: Int) -> Bool {
        cursor.segment == segments.count - 1 && cursor.offset == offset
    }

    private mutating func drop(_ seq: UInt64, reason: String) -> SpoolAppendOutcome {
        ack.dropped += 1
        ackDirty = true
        return .dropped(seq: seq, reason: reason)
    }

    private mutating func openNewSegment(firstSeq: UInt64) throws(SystemError) {
        let name = String(firstSeq)
        let path = folder + "/" + String(repeating: "0", count: max(0, 20 - name.count)) + name + ".seg"
        let file = try SpoolFile(path: path, create: true)
        if cursor.segment == segments.count - 1, let last = segments.last, cursor.offset >= last.file.size {
            // Caught up at the end of the old segment: continue in the new one.
            cursor = Cursor(segment: segments.count, offset: 0)
        }
        segments.append(Segment(firstSeq: firstSeq, lastSeq: 0, file: file))
    }

    /// Discards the oldest segment; its records not yet handed to the session count as dropped.
    private mutating func dropOldestSegment() {
        let oldest = segments.removeFirst()
        var unsent = 0
        if cursor.segment == 0 {
            let bytes = (try? oldest.file.read(offset: cursor.offset, count: oldest.file.size - cursor.offset)) ?? []
            var offset = 0
            while case .record(let record, let size) = SpoolRecord.decode(bytes[offset...]) {
                if record.seq > ack.watermark && !ack.doneAbove.contains(record.seq) { unsent += 1 }
                offset += size
            }
            cursor = Cursor(segment: 0, offset: 0)
        } else {
            cursor.segment -= 1
        }
        recent.removeAll { $0.segmentFirstSeq == oldest.firstSeq }
        ack.dropped += UInt64(unsent)
        pendingCount -= unsent
        ackDirty = true
        // Everything in it is now either outstanding in the session or gone.
        handedUpTo = max(handedUpTo, oldest.lastSeq)
        advanceWatermark()
        FileSystem.remove(oldest.path)
    }

    private var totalBytes: Int { segments.reduce(0) { $0 + $1.file.size } }

    // MARK: Hand-out and acknowledgement

    mutating func takeUnsent(limit: Int) -> [SpoolRecord] {
        var taken: [SpoolRecord] = []
        while taken.count < limit, cursor.segment < segments.count {
            let segment = segments[cursor.segment]
            if cursor.offset >= segment.file.size {
                guard cursor.segment < segments.count - 1 else { break }
                cursor = Cursor(segment: cursor.segment + 1, offset: 0)
                continue
            }
            let (records, consumed) = read(at: cursor, limit: limit - taken.count)
            guard consumed > 0 else {
                // Unreadable from here on (damage after recovery): skip the rest rather than stall.
                cursor.offset = segment.file.size
                continue
            }
            cursor.offset += consumed
            for record in records {
                handedUpTo = max(handedUpTo, record.seq)
                if record.seq <= ack.watermark || ack.doneAbove.contains(record.seq) || outstanding[record.seq] != nil {
                    continue
                }
                outstanding[record.seq] = record.takenAtMilliseconds
                insertOutstandingOrder(record.seq)
                taken.append(record)
            }
        }
        return taken
    }

    /// Empties the recent-append cache, keeping its storage only when it stayed small.
    private mutating func emptyRecent() {
        recent.removeAll(keepingCapacity: recentPeak <= Self.recentKeptCapacity)
        recentPeak = 0
    }

    /// Records from `cursor` on, from the recent-append cache when it lines up, else from the file;
    /// damaged bytes are stepped over. Returns the records and the bytes consumed.
    private mutating func read(at cursor: Cursor, limit: Int) -> ([SpoolRecord], Int) {
        let segment = segments[cursor.segment]
        if let first = recent.first, first.segmentFirstSeq == segment.firstSeq, first.offset == cursor.offset {
            var served: [SpoolRecord] = []
            var consumed = 0
            while served.count < limit, let next = recent.first, next.segmentFirstSeq == segment.firstSeq,
                next.offset == cursor.offset + consumed
            {
                served.append(next.record)
                consumed += next.record.encodedSize
                recent.removeFirst()
            }
            if recent.isEmpty { emptyRecent() }
            return (served, consumed)
        }
        emptyRecent()
        var bytes = (try? segment.file.read(offset: cursor.offset, count: 64 << 10)) ?? []
        var records: [SpoolRecord] = []
        var offset = 0
        while records.count < limit, offset < bytes.count {
            switch SpoolRecord.decode(bytes[offset...]) {
            case .record(let record, let size):
                records.append(record)
                offset += size
            case .incomplete:
                if offset == 0, bytes.count >= SpoolRecord.headerSize {
                    // A record larger than the read chunk: read exactly its size and retry.
                    let length = Int(bytes[...].loadLittleEndian(UInt32.self, at: 4))
                    let whole =
                        (try? segment.file.read(offset: cursor.offset, count: SpoolRecord.headerSize + length)) ?? []
                    if whole.count > bytes.count {
                        bytes = whole
                        continue
                    }
                }
                return (records, offset)
            case .corrupt:
                guard let next = SpoolStorage.nextRecordStart(in: bytes, after: offset) else {
                    return (records, offset == 0 ? bytes.count : offset)
                }
                offset = next
            }
        }
        return (records, offset)
    }

    func records(_ seqs: Set<UInt64>) -> [UInt64: SpoolRecord] {
        var found: [UInt64: SpoolRecord] = [:]
        for segment in segments where segment.lastSeq >= (seqs.min() ?? 0) && segment.firstSeq <= (seqs.max() ?? 0) {
            let bytes = (try? segment.file.read(offset: 0, count: segment.file.size)) ?? []
            var offset = 0
            while offset < bytes.count {
                switch SpoolRecord.decode(bytes[offset...]) {
                case .record(let record, let size):
                    if seqs.contains(record.seq) { found[record.seq] = record }
                    offset += size
                case .incomplete:
                    offset = bytes.count
                case .corrupt:
                    offset = Self.nextRecordStart(in: bytes, after: offset) ?? bytes.count
                }
            }
        }
        return found
    }

    mutating func markHandedOut(_ records: [SpoolRecord]) {
        for record in records where record.seq > ack.watermark && !ack.doneAbove.contains(record.seq) {
            outstanding[record.seq] = record.takenAtMilliseconds
            insertOutstandingOrder(record.seq)
        }
    }

    /// Keeps `outstandingOrder` ascending: an append in the usual case, a binary-search insert otherwise.
    private mutating func insertOutstandingOrder(_ seq: UInt64) {
        guard let last = outstandingOrder.last, seq < last else {
            outstandingOrder.append(seq)
            return
        }
        var low = outstandingHead
        var high = outstandingOrder.count
        while low < high {
            let middle = (low + high) / 2
            if outstandingOrder[middle] < seq { low = middle + 1 } else { high = middle }
        }
        outstandingOrder.insert(seq, at: low)
    }

    /// Returns false for a seq that was not outstanding (a duplicate acknowledgement).
    @discardableResult
    mutating func acknowledge(_ seq: UInt64, rejected isRejected: Bool) -> Bool {
        guard outstanding.removeValue(forKey: seq) != nil else { return false }
        if isRejected { rejected += 1 }
        pendingCount -= 1
        ack.doneAbove.insert(seq)
        ackDirty = true
        advanceWatermark()
        return true
    }

    private mutating func advanceWatermark() {
        while outstandingHead < outstandingOrder.count, outstanding[outstandingOrder[outstandingHead]] == nil {
            outstandingHead += 1
        }
        if outstandingHead >= 1024, outstandingHead * 2 >= outstandingOrder.count {
            outstandingOrder.removeFirst(outstandingHead)
            outstandingHead = 0
        }
        let lowest = outstandingHead < outstandingOrder.count ? outstandingOrder[outstandingHead] : nil
        let boundary = (lowest ?? (handedUpTo + 1)) - 1
        if boundary > ack.watermark {
            ack.watermark = boundary
            // In-order acknowledgements (the usual case) leave nothing above: clear without reallocating.
            if ack.doneAbove.allSatisfy({ $0 <= boundary }) {
                ack.doneAbove.removeAll(keepingCapacity: true)
            } else {
                ack.doneAbove = ack.doneAbove.filter { $0 > boundary }
            }
        }
    }

    // MARK: Checkpoint

    mutating func close() throws(SpoolError) {
        try checkpoint()
        do {
            try saveCounter(reserved: max(reserved, ack.lastSeq), clean: true)
        } catch {
            throw SpoolError(
                .counterNotSaved,
                cause: error,
                message: "spool: \(error); fix: check free space and permissions of spool.dir"
            )
        }
    }

    mutating func checkpoint() throws(SpoolError) {
        do throws(SystemError) {
            if dirty, let current = segments.last {
                try current.file.sync()
                dirty = false
            }
        } catch {
            throw SpoolError(
                .syncFailed,
                cause: error,
                message: "spool: \(error); fix: check the storage under spool.dir"
            )
        }
        guard ackDirty else { return }
        do throws(SystemError) {
            try FileSystem.writeFileAtomically(folder + "/ack", ack.encoded())
        } catch {
            throw SpoolError(
                .acknowledgementsNotSaved,
                cause: error,
                message: "spool: \(error); fix: free space on the spool.dir file system"
            )
        }
        ackDirty = false
        // Only after the acknowledgements are durable may delivered segments go.
        while segments.count > 1, segments[0].lastSeq <= ack.watermark, cursor.segment > 0 {
            let done = segments.removeFirst()
            cursor.segment -= 1
            FileSystem.remove(done.path)
        }
    }

    func statistics() -> SpoolStatistics {
        var oldest = outstanding.values.min()
        if let next = firstUnsentTakenAt() {
            oldest = min(oldest ?? next, next)
        }
        return SpoolStatistics(
            depth: pendingCount,
            bytes: totalBytes,
            dropped: ack.dropped,
            rejected: rejected,
            oldestPendingTakenAt: oldest
        )
    }

    /// When the next record the cursor would hand out was taken, without moving the cursor.
    private func firstUnsentTakenAt() -> Int64? {
        if let first = recent.first { return first.record.takenAtMilliseconds }
        var position = cursor
        while position.segment < segments.count {
            let segment = segments[position.segment]
            let bytes = (try? segment.file.read(offset: position.offset, count: 64 << 10)) ?? []
            var offset = 0
            while case .record(let record, let size) = SpoolRecord.decode(bytes[offset...]) {
                if record.seq > ack.watermark && !ack.doneAbove.contains(record.seq) {
                    return record.takenAtMilliseconds
                }
                offset += size
            }
            position = Cursor(segment: position.segment + 1, offset: 0)
        }
        return nil
    }
}
