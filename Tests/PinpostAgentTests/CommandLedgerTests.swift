import Foundation
import Testing
import Timestamps

@testable import PinpostAgent

@Suite("Command ids remembered across restarts")
struct CommandLedgerTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pinpost-ledger-\(UUID().uuidString)")
        .path

    @Test func idsSurviveAReopenAndTheOldestAreForgottenBeyondCapacity() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var ledger = try CommandLedger(folder: folder, capacity: 16)
        let time = UTCTime(epochMilliseconds: 1_800_000_000_000)
        for index in 0..<20 {
            try ledger.record("c-\(index)", at: time, outcome: index == 7 ? "expired" : "ok")
        }
        try ledger.record("c-7", at: time, outcome: "gpio_failed")
        let reopened = try CommandLedger(folder: folder, capacity: 16)
        #expect(reopened.lookup("c-3") == nil, "beyond the capacity")
        #expect(reopened.lookup("c-4")?.outcome == "ok")
        #expect(reopened.lookup("c-7")?.outcome == "gpio_failed")
        #expect(reopened.lookup("c-19")?.handledAt == time)
        #expect(reopened.remembered.map(\.id) == (4..<20).map { "c-\($0)" })
        let text = try String(contentsOfFile: folder + "/seen", encoding: .utf8)
        #expect(text.hasPrefix("pinpost-commands 1\n"))
        #expect(!FileManager.default.fileExists(atPath: folder + "/seen.tmp"))
    }

    @Test func aDamagedLineIsSkippedNotFatal() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try "pinpost-commands 1\n1 ok good\nnot a line\n2 ok\n".write(
            toFile: folder + "/seen",
            atomically: true,
            encoding: .utf8
        )
        let ledger = try CommandLedger(folder: folder, capacity: 16)
        #expect(ledger.remembered.map(\.id) == ["good"])
    }
}
