import DurableSpool
import Foundation
import ReadingProof
import TLS
import Testing

/// The sealer's readings through the verifier, in every envelope, and every attack a relay can make on them:
/// each must be named, and nothing else.
@Suite("Signed readings: sealed by the agent's code, checked by pinpost verify's")
struct ReadingVerifierTests {
    @Test(arguments: [
        (ReadingSealer.Envelope.userProperty, false), (.payload, false), (.userProperty, true), (.payload, true),
    ])
    func everyEnvelopeVerifies(envelope: ReadingSealer.Envelope, encrypted: Bool) throws {
        let fixture = try ProofFixture()
        let sealed = fixture.readings(
            "dev-0001",
            seqs: 1...6,
            sealer: try fixture.sealer("dev-0001", envelope: envelope, encrypted: encrypted)
        )
        let lines = [try fixture.announcement("dev-0001")] + sealed.lines
        let report = try fixture.verify(lines, decrypt: encrypted)
        #expect(report.allVerified, "\(report.findings)")
        #expect(report.verified["dev-0001"] == 6)
        if encrypted {
            // Without the operator key nothing can be proven, and nothing of the reading shows.
            #expect(!lines[1].contains("door\",\"value"))
            #expect(try fixture.verify(lines).kinds() == Array(repeating: .unproven, count: 6))
        }
        if envelope == .userProperty && !encrypted {
            #expect(sealed.lines[0].contains(#" {"sensor":"door""#), "MQTT 5 leaves the JSON payload as it was")
        }
    }

    @Test func everyAttackIsNamed() throws {
        let fixture = try ProofFixture()
        let genuine =
            [try fixture.announcement("dev-0001")]
            + fixture.readings("dev-0001", seqs: 1...30, sealer: try fixture.sealer("dev-0001")).lines
        #expect(try fixture.verify(genuine).allVerified)
        func attacked(_ change: (inout [String]) throws -> Void) throws -> [ProofFinding.Kind] {
            var lines = genuine
            try change(&lines)
            let report = try fixture.verify(lines)
            #expect(!report.allVerified)
            return report.kinds()
        }
        #expect(
            try attacked { $0[5] = $0[5].replacingOccurrences(of: #""value":1"#, with: #""value":0"#) } == [.modified]
        )
        #expect(
            try attacked { $0[5] = $0[5].replacingOccurrences(of: #""seq":5"#, with: #""seq":50"#) } == [
                .modified, .missing,
            ]
        )
        #expect(try attacked { $0[5] = $0[5].replacingOccurrences(of: "03.105Z", with: "04.105Z") } == [.modified])
        #expect(
            try attacked { $0[5] = $0[5].replacingOccurrences(of: "sensors/door", with: "sensors/window") } == [
                .modified
            ]
        )
        #expect(try attacked { $0.append($0[2]) } == [.replayed])
        #expect(try attacked { $0.remove(at: 7) } == [.missing])
        #expect(try attacked { $0.swapAt(7, 8) } == [.reordered])
        // A copy right behind the newest reading is what QoS 1 may deliver: named, not a failure.
        var resent = genuine
        resent.insert(genuine[29], at: 30)
        let report = try fixture.verify(resent)
        #expect(report.allVerified && report.kinds() == [.duplicate], "\(report.findings)")

        // Signed with another device's key, published as dev-0001's.
        let other = fixture.readings("dev-0002", seqs: 31...31, sealer: try fixture.sealer("dev-0002")).lines[0]
            .replacingOccurrences(of: "devices/dev-0002/sensors/door", with: "devices/dev-0001/sensors/door")
        #expect(try attacked { $0 += [try fixture.announcement("dev-0002"), other] } == [.forged])
        // An unsigned reading slipped in is covered by no signature.
        #expect(
            try attacked {
                $0.append(
                    #"devices/dev-0001/sensors/door {"sensor":"door","value":1,"ts":"x","stream":"00000000000000a1","seq":31}"#
                )
            } == [.unproven]
        )
    }

    @Test func theChainContinuesAcrossARestartAndOverSkippedSeqs() throws {
        let fixture = try ProofFixture()
        let first = fixture.readings("dev-0001", seqs: 1...5, sealer: try fixture.sealer("dev-0001"))
        // A restart: the new sealer picks the chain up from the newest spool record; after a power cut the spool
        // skipped seqs (never reused), which the chain shows as no loss.
        let resumed = try fixture.sealer("dev-0001", resumingAfter: first.records.last)
        #expect(resumed.head.seq == 5)
        let second = fixture.readings("dev-0001", seqs: 1030...1034, sealer: resumed)
        let report = try fixture.verify([try fixture.announcement("dev-0001")] + first.lines + second.lines)
        #expect(report.allVerified, "\(report.findings)")
        #expect(report.verified["dev-0001"] == 10)
        // Without the chain's word, the same gap is a loss.
        let fresh = fixture.readings("dev-0001", seqs: 1030...1031, sealer: try fixture.sealer("dev-0001"))
        let broken = try fixture.verify([try fixture.announcement("dev-0001")] + first.lines + fresh.lines)
        #expect(broken.kinds() == [.missing], "\(broken.findings)")
    }

    @Test func chainHeadSignaturesProveTheReadingsBetween() throws {
        let fixture = try ProofFixture()
        let sealed = fixture.readings("dev-0001", seqs: 1...21, sealer: try fixture.sealer("dev-0001", signEvery: 5))
        let signed = sealed.lines.filter { $0.contains(" sig:") }.count
        #expect(signed == 5, "the first of the run, then one in five: 1, 6, 11, 16, 21")
        let lines = [try fixture.announcement("dev-0001")] + sealed.lines
        let report = try fixture.verify(lines)
        #expect(report.allVerified, "\(report.findings)")
        #expect(report.verified["dev-0001"] == 21)
        // An unsigned reading between two signatures altered: the chain breaks for the run it is in.
        var altered = lines
        altered[8] = altered[8].replacingOccurrences(of: #""value":0"#, with: #""value":1"#)
        #expect(try fixture.verify(altered).kinds() == [.modified])
        // The tail after the last signature stays unproven until the next one.
        let tail = fixture.readings("dev-0001", seqs: 1...7, sealer: try fixture.sealer("dev-0001", signEvery: 5))
        #expect(try fixture.verify([try fixture.announcement("dev-0001")] + tail.lines).kinds() == [.unproven])
    }

    @Test func anEncryptedReadingAlteredInTransitDoesNotDecrypt() throws {
        let fixture = try ProofFixture()
        var lines =
            [try fixture.announcement("dev-0001")]
            + fixture.readings("dev-0001", seqs: 1...3, sealer: try fixture.sealer("dev-0001", encrypted: true)).lines
        var bytes = Array(lines[2].utf8)
        let index = bytes.count - 30
        bytes[index] = bytes[index] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        lines[2] = String(decoding: bytes, as: UTF8.self)
        // Its seq is unreadable too, so the gap it leaves is named as well.
        #expect(try fixture.verify(lines, decrypt: true).kinds() == [.modified, .missing])
    }
}
