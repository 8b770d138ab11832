import Foundation
import SystemExtras
import SystemPackage
import Testing

@testable import DurableSpool

@Suite("Durable spool")
struct SpoolTests {
    let folder: String

    init() throws {
        folder =
            FileManager.default.temporaryDirectory.appendingPathComponent("pinpost-spool-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    func open(maxBytes: Int = 1 << 20, whenFull: SpoolConfiguration.WhenFull = .dropOldest) throws -> Spool {
        try Spool(configuration: SpoolConfiguration(directory: folder, maxBytes: maxBytes, whenFull: whenFull))
    }

    @discardableResult
    func append(_ spool: Spool, count: Int, payloadSize: Int = 40) -> [SpoolAppendOutcome] {
        (0..<count).map { _ in
            spool.append(qos: 1, takenAtMilliseconds: 1_795_392_000_000, topic: "devices/d/sensors/s") { seq in
                Array("{\"seq\":\(seq)}".utf8) + [UInt8](repeating: 0x20, count: payloadSize)
            }
        }
    }

    var segmentFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder + "/spool")) ?? []).filter {
            $0.hasSuffix(".seg")
        }.sorted()
    }

    /// The error says what failed with a code and keeps the errno behind it: callers decide on those, not on text.
    @Test func anUnusableFolderIsRefusedWithItsCodeAndErrno() throws {
        let file = folder + "/not-a-folder"
        try Data().write(to: URL(fileURLWithPath: file))
        #expect {
            try Spool(configuration: SpoolConfiguration(directory: file + "/state"))
        } throws: { error in
            guard let error = error as? SpoolError else { return false }
            return error.code == .folderUnusable && error.cause?.code == .notDirectory && !error.isDiskFull
                && error.message.contains("spool.dir") && error.message.contains("fix:")
        }
    }

    @Test func handsOutInSeqOrderAndForgetsWhatWasAcknowledged() throws {
        let spool = try open()
        append(spool, count: 10)
        let first = spool.takeUnsent(limit: 4)
        #expect(first.map(\.seq) == [1, 2, 3, 4])
        #expect(spool.takeUnsent(limit: 100).map(\.seq) == Array(5...10))
        for seq in UInt64(1)...10 { spool.acknowledge(seq) }
        try spool.checkpoint()
        #expect(spool.statistics().depth == 0)

        let reopened = try open()
        #expect(reopened.takeUnsent(limit: 100).isEmpty)
        #expect(reopened.lastSeq == 10)
        #expect(append(reopened, count: 1) == [.stored(seq: 11)])
    }

    @Test func replaysEverythingUnacknowledgedAfterACrash() throws {
        let spool = try open()
        append(spool, count: 20)
        _ = spool.takeUnsent(limit: 20)
        for seq: UInt64 in [1, 2, 3, 5, 8] { spool.acknowledge(seq) }
        try spool.checkpoint()
        spool.acknowledge(9)  // acknowledged but never checkpointed: may come again, never lost
        // No clean shutdown: the next process recovers from the files alone.
        let reopened = try open()
        let replay = reopened.takeUnsent(limit: 100).map(\.seq)
        #expect(replay == [4, 6, 7] + Array(9...20))
        #expect(reopened.recovery.isClean)
    }

    @Test func tornTailIsTruncatedAndEverythingBeforeItSurvives() throws {
        let spool = try open()
        append(spool, count: 5)
        try spool.checkpoint()
        let path = folder + "/spool/" + segmentFiles.last!
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(size - 7))
        try handle.close()

        let reopened = try open()
        #expect(reopened.recovery.tornTailBytes > 0)
        #expect(reopened.takeUnsent(limit: 100).map(\.seq) == [1, 2, 3, 4])
        // The torn record's seq is not reused: the checkpoint had recorded it as handed out.
        #expect(append(reopened, count: 1) == [.stored(seq: 6)])
    }

    @Test func corruptRecordIsSkippedAndReportedNotTheWholeSpool() throws {
        let spool = try open()
        append(spool, count: 6)
        try spool.checkpoint()
        let path = folder + "/spool/" + segmentFiles.last!
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let recordSize = bytes.count / 6
        bytes[recordSize * 2 + 30] ^= 0xFF  // inside the body of seq 3
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        let reopened = try open()
        #expect(reopened.recovery.corruptRegions.count == 1)
        #expect(reopened.recovery.corruptBytes == recordSize)
        #expect(reopened.takeUnsent(limit: 100).map(\.seq) == [1, 2, 4, 5, 6])
        #expect(reopened.lastSeq == 6)
    }

    @Test func dropOldestKeepsTheNewestAndCountsExactly() throws {
        let spool = try open(maxBytes: 64 << 10)  // 16 KiB segments
        let outcomes = append(spool, count: 2000, payloadSize: 60)
        #expect(outcomes.allSatisfy { if case .stored = $0 { true } else { false } })
        let statistics = spool.statistics()
        #expect(statistics.bytes <= 64 << 10)
        let remaining = spool.takeUnsent(limit: 5000).map(\.seq)
        #expect(remaining.last == 2000)
        #expect(remaining == Array(remaining.first!...2000), "the survivors are the newest, contiguous")
        #expect(statistics.dropped == UInt64(2000 - remaining.count))
        #expect(statistics.depth == remaining.count)
    }

    @Test func dropNewestRefusesNewReadingsAndCountsThem() throws {
        let spool = try open(maxBytes: 64 << 10, whenFull: .dropNewest)
        let outcomes = append(spool, count: 2000, payloadSize: 60)
        let stored = outcomes.compactMap { if case .stored(let seq) = $0 { seq } else { nil } }
        let dropped = outcomes.compactMap { if case .dropped(let seq, _) = $0 { seq } else { nil } }
        #expect(stored == Array(1...UInt64(stored.count)))
        #expect(dropped == Array(UInt64(stored.count + 1)...2000))
        #expect(spool.statistics().dropped == UInt64(dropped.count))
        #expect(spool.takeUnsent(limit: 5000).map(\.seq) == stored)
    }

    @Test func deliveredSegmentsAreDeletedAfterTheCheckpoint() throws {
        let spool = try open(maxBytes: 128 << 10)
        append(spool, count: 1000, payloadSize: 60)
        let before = segmentFiles.count
        #expect(before > 2)
        for record in spool.takeUnsent(limit: 5000) { spool.acknowledge(record.seq) }
        try spool.checkpoint()
        #expect(segmentFiles.count == 1)
        #expect(spool.statistics().depth == 0)
    }

    @Test func oldestPendingAgeFollowsAcknowledgements() throws {
        let spool = try open()
        for taken in [Int64(1000), 2000, 3000] {
            _ = spool.append(qos: 1, takenAtMilliseconds: taken, topic: "t") { _ in [] }
        }
        #expect(spool.statistics().oldestPendingTakenAt == 1000)
        _ = spool.takeUnsent(limit: 2)
        spool.acknowledge(1)
        #expect(spool.statistics().oldestPendingTakenAt == 2000)
        spool.acknowledge(2)
        #expect(spool.statistics().oldestPendingTakenAt == 3000)
    }

    @Test func damagedAckFileMeansDuplicatesNeverLoss() throws {
        let spool = try open()
        append(spool, count: 3)
        for record in spool.takeUnsent(limit: 3) { spool.acknowledge(record.seq) }
        try spool.checkpoint()
        try "garbage".write(toFile: folder + "/spool/ack", atomically: true, encoding: .utf8)
        let reopened = try open()
        #expect(reopened.recovery.ackStateDamaged)
        #expect(reopened.takeUnsent(limit: 10).map(\.seq) == [1, 2, 3])
    }
}
