import DurableSpool
import Foundation
import MQTT
import SystemExtras
import Testing
import Timestamps

@testable import PinpostAgent

@Suite("Reading recorder")
struct ReadingRecorderTests {
    @Test func concurrentSensorsGetContiguousSeqsInSpoolOrder() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pinpost-rec-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let spool = try Spool(configuration: SpoolConfiguration(directory: folder))
        let (wakeUps, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let recorder = ReadingRecorder(spool: spool, topics: Topics(deviceID: "dev"), wakeUp: continuation)
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<4 {
                group.addTask {
                    for _ in 0..<25 {
                        recorder.record(
                            sensor: "s\(index)",
                            value: .digital(true),
                            edge: nil,
                            takenAt: .now(),
                            clockSynchronized: true,
                            qos: .atLeastOnce
                        )
                    }
                }
            }
        }
        recorder.finish()
        var wakeUpCount = 0
        for await _ in wakeUps { wakeUpCount += 1 }
        #expect(wakeUpCount >= 1)
        let records = spool.takeUnsent(limit: 1000)
        #expect(records.map(\.seq) == Array(1...100))
        // Each payload carries the seq it was stored under.
        for record in records {
            #expect(String(decoding: record.payload, as: UTF8.self).contains("\"seq\":\(record.seq)"))
            #expect(record.topic.hasPrefix("devices/dev/sensors/s"))
        }
    }
}
