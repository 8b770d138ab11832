import DurableSpool
import Foundation
import SystemExtras
import Testing

/// Records with attributes and a note (signed readings) next to plain ones, across a reopen.
@Suite("Spool records with attributes and a note")
struct SpoolRecordExtrasTests {
    @Test func extrasSurviveAReopenAndPlainRecordsStayReadable() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "pinpost-extras-\(UUID().uuidString)"
        )
        defer { try? FileManager.default.removeItem(at: folder) }
        let configuration = SpoolConfiguration(directory: folder.path)
        do {
            let spool = try Spool(configuration: configuration)
            #expect(spool.newestRecordAtOpen == nil)
            _ = spool.append(qos: 1, takenAtMilliseconds: 1, topic: "t/plain") { _ in Array("plain".utf8) }
            _ = spool.append(qos: 1, takenAtMilliseconds: 2, topic: "t/signed") { seq in
                SpoolContent(
                    payload: Array("signed \(seq)".utf8),
                    attributes: [SpoolAttribute(name: "sig", value: "header..signature")],
                    note: [1, 2, 3]
                )
            }
            try spool.close()
        }
        let reopened = try Spool(configuration: configuration)
        let newest = try #require(reopened.newestRecordAtOpen)
        #expect(newest.seq == 2 && newest.note == [1, 2, 3])
        #expect(newest.attributes == [SpoolAttribute(name: "sig", value: "header..signature")])
        let records = reopened.takeUnsent(limit: 10)
        #expect(records.map(\.topic) == ["t/plain", "t/signed"])
        #expect(records[0].attributes.isEmpty && records[0].note.isEmpty)
        #expect(records[1].payload == Array("signed 2".utf8))
        // A plain record is written as before (magic "PPS1"), a record with extras as "PPS2".
        let segment = try #require(
            try FileManager.default.contentsOfDirectory(atPath: folder.path + "/spool").first { $0.hasSuffix(".seg") }
        )
        let bytes = try Data(contentsOf: folder.appendingPathComponent("spool/" + segment))
        #expect(bytes.prefix(4) == Data("PPS1".utf8))
        #expect(bytes.range(of: Data("PPS2".utf8)) != nil)
    }
}
