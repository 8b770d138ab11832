import Foundation
import PinpostAgent
import Testing
import Timestamps
import MQTT

@Suite("Persistent sequence counter")
struct SequenceStoreTests {
    func temporaryFolder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pinpost-seq-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func startsAtOneAndContinuesAcrossReopen() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try SequenceStore(directory: folder + "/state")
        #expect(try store.next() == 1)
        #expect(try store.next() == 2)
        let reopened = try SequenceStore(directory: folder + "/state")
        #expect(reopened.last == 2)
        #expect(try reopened.next() == 3)
    }

    @Test func damagedCounterIsAnErrorNotASilentRestart() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "garbage".write(toFile: folder + "/seq", atomically: true, encoding: .utf8)
        #expect(throws: StateError.self) { try SequenceStore(directory: folder) }
    }

    @Test func recorderAssignsSeqInStreamOrder() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (stream, continuation) = AsyncStream<Reading>.makeStream()
        let recorder = ReadingRecorder(sequence: try SequenceStore(directory: folder), continuation: continuation)
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<4 {
                group.addTask {
                    for _ in 0..<25 {
                        _ = try? recorder.record(sensor: "s\(index)", value: .digital(true), edge: nil, takenAt: .now(), clockSynchronized: true, qos: .atLeastOnce)
                    }
                }
            }
        }
        recorder.finish()
        var seqs: [UInt64] = []
        for await reading in stream { seqs.append(reading.seq) }
        #expect(seqs == Array(1...100))
    }
}
