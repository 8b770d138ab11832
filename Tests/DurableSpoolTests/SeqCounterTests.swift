import Foundation
import Testing

@testable import DurableSpool

/// (device, stream, seq) names one reading, whatever stopped the last run: a clean stop, a crash, a power
/// cut that lost unsynced records, or lost state files.
@Suite("Seq counter across stops")
struct SeqCounterTests {
    let folder: String

    init() throws {
        folder =
            FileManager.default.temporaryDirectory.appendingPathComponent("pinpost-seq-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    func open(boot: String? = "boot-A", fsync: SpoolConfiguration.Fsync = .interval(.seconds(1))) throws -> Spool {
        try Spool(
            configuration: SpoolConfiguration(directory: folder, fsync: fsync, bootID: boot, seqReservation: 100)
        )
    }

    @discardableResult
    func append(_ spool: Spool, count: Int) -> [UInt64] {
        (0..<count).compactMap { _ in
            let outcome = spool.append(qos: 1, takenAtMilliseconds: 0, topic: "t") { Array("\($0)".utf8) }
            if case .stored(let seq) = outcome { return seq }
            return nil
        }
    }

    var seqState: SeqState? {
        (try? Data(contentsOf: URL(fileURLWithPath: folder + "/spool/seq"))).flatMap { SeqState.decode(Array($0)) }
    }

    /// What a power cut does to records appended after the last fsync: they are gone from the segment.
    func loseNewestRecords(_ count: Int) throws {
        let spoolFolder = folder + "/spool"
        let segment = try #require(
            FileManager.default.contentsOfDirectory(atPath: spoolFolder).filter { $0.hasSuffix(".seg") }.max()
        )
        let url = URL(fileURLWithPath: spoolFolder + "/" + segment)
        var bytes = Array(try Data(contentsOf: url))
        var starts: [Int] = []
        var offset = 0
        while case .record(_, let size) = SpoolRecord.decode(bytes[offset...]) {
            starts.append(offset)
            offset += size
        }
        bytes.removeSubrange(starts[starts.count - count]...)
        try Data(bytes).write(to: url)
    }

    @Test func aNewSpoolStartsANewStreamAtOne() throws {
        let spool = try open()
        #expect(spool.recovery.previousRun == .none && spool.recovery.newStream && spool.recovery.isCleanStart)
        #expect(SeqState.isStreamID(Substring(spool.stream)))
        #expect(append(spool, count: 2) == [1, 2])
    }

    @Test func aCleanStopContinuesWithoutAGapInTheSameStream() throws {
        let first = try open()
        append(first, count: 5)
        try first.close()
        #expect(seqState?.clean == true && seqState?.lastSeq == 5)
        let second = try open(boot: "boot-B")
        #expect(second.recovery.previousRun == .clean && second.recovery.isCleanStart)
        #expect(second.stream == first.stream)
        #expect(append(second, count: 1) == [6])
    }

    @Test func aCrashInTheSameBootContinuesWithoutAGap() throws {
        let first = try open()
        append(first, count: 5)
        let second = try open()
        #expect(second.recovery.previousRun == .crashed && second.recovery.seqSkipped == 0)
        #expect(second.stream == first.stream)
        #expect(append(second, count: 1) == [6])
    }

    @Test func aPowerCutResumesAboveTheReservationSoNoPublishedSeqIsReused() throws {
        let first = try open()
        #expect(append(first, count: 5) == [1, 2, 3, 4, 5])  // 4 and 5 may have reached a subscriber
        try loseNewestRecords(2)
        let second = try open(boot: "boot-B")
        #expect(second.recovery.previousRun == .powerLoss)
        #expect(second.recovery.seqSkipped == 97)
        #expect(second.stream == first.stream)
        #expect(append(second, count: 1) == [101])
        #expect(second.takeUnsent(limit: 10).map(\.seq) == [1, 2, 3, 101])
    }

    @Test func withFsyncAlwaysAPowerCutLosesNothingAppendedSoTheCountGoesOn() throws {
        let first = try open(fsync: .always)
        append(first, count: 5)
        let second = try open(boot: "boot-B", fsync: .always)
        #expect(second.recovery.previousRun == .powerLoss && second.recovery.seqSkipped == 0)
        #expect(append(second, count: 1) == [6])
    }

    @Test func theReservationIsOnDiskBeforeASeqBeyondItIsUsed() throws {
        let spool = try open()
        for _ in 0..<350 {
            let seq = try #require(append(spool, count: 1).first)
            let reserved = try #require(seqState?.reserved)
            #expect(reserved >= seq)
        }
    }

    @Test func lostAckFileAndDeliveredSegmentsDoNotRestartTheCountAtOne() throws {
        let first = try open()
        append(first, count: 10)
        for record in first.takeUnsent(limit: 10) { first.acknowledge(record.seq) }
        try first.checkpoint()
        // What was reproduced on a device: the ack file emptied, the segments gone.
        let spoolFolder = folder + "/spool"
        try Data().write(to: URL(fileURLWithPath: spoolFolder + "/ack"))
        for name in try FileManager.default.contentsOfDirectory(atPath: spoolFolder) where name.hasSuffix(".seg") {
            try FileManager.default.removeItem(atPath: spoolFolder + "/" + name)
        }
        let second = try open()
        #expect(second.recovery.ackStateDamaged)
        #expect(second.stream == first.stream)
        let next = try #require(append(second, count: 1).first)
        #expect(next > 10)
    }

    @Test func withEveryStateFileLostTheCountStartsOverUnderANewStream() throws {
        let first = try open()
        append(first, count: 10)
        try first.close()
        try FileManager.default.removeItem(atPath: folder + "/spool")
        let second = try open()
        #expect(second.stream != first.stream)
        #expect(append(second, count: 1) == [1])
    }

    @Test func aDamagedSeqFileGivesANewStreamAndKeepsCounting() throws {
        let first = try open()
        append(first, count: 7)
        try first.close()
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: folder + "/spool/seq"))
        let second = try open()
        #expect(second.recovery.previousRun == .unknown && second.recovery.newStream)
        #expect(second.stream != first.stream)
        #expect(append(second, count: 1) == [8])
    }

    @Test func seqStateRoundTripsAndRefusesDamage() {
        let state = SeqState(stream: "0123456789abcdef", reserved: 2048, lastSeq: 1000, boot: "b-1", clean: true)
        #expect(SeqState.decode(state.encoded()) == state)
        let unknownBoot = SeqState(stream: "0123456789abcdef", reserved: 5, lastSeq: 5, boot: nil, clean: false)
        #expect(SeqState.decode(unknownBoot.encoded()) == unknownBoot)
        for damaged in [
            "", "pinpost-seq 1\nend\n",
            String(decoding: state.encoded(), as: UTF8.self).replacingOccurrences(
                of: "0123456789abcdef",
                with: "XYZ"
            ),
            String(decoding: state.encoded(), as: UTF8.self).replacingOccurrences(
                of: "last_seq 1000",
                with: "last_seq 4096"
            ),
        ] {
            #expect(SeqState.decode(Array(damaged.utf8)) == nil, "accepted: \(damaged)")
        }
    }
}
