/// What keeps the seq counter honest across crashes and power cuts, in `spool/seq` beside the ack file.
///
/// - `stream` names the counter: chosen at random whenever the counter starts over (a new spool, or every
///   record of the old count lost), so that (device, stream, seq) never names two different readings.
/// - `reserved`: no seq above it has been handed out. It is raised, durably, before the first seq beyond it
///   is used, so after a power cut that lost appended-but-unsynced readings (which may have been published),
///   numbering resumes above it and never reuses a seq a subscriber may have seen.
/// - `lastSeq`: exact after a clean shutdown, a lower bound otherwise.
/// - `boot` and `clean`: whether the last run ended cleanly, and in which boot it ran. A crash of the agent
///   alone leaves the kernel's page cache, and so every appended record, intact; only another boot can
///   have lost records.
struct SeqState: Equatable {
    var stream: String
    var reserved: UInt64
    var lastSeq: UInt64
    var boot: String?
    var clean: Bool

    func encoded() -> [UInt8] {
        var text = "pinpost-seq 1\nstream \(stream)\nreserved \(reserved)\nlast_seq \(lastSeq)\n"
        text += "boot \(boot ?? "-")\nclean \(clean ? 1 : 0)\nend\n"
        return Array(text.utf8)
    }

    /// nil for damaged content.
    static func decode(_ bytes: [UInt8]) -> SeqState? {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n")
        guard lines.first == "pinpost-seq 1", lines.last == "end" else { return nil }
        var fields: [Substring: Substring] = [:]
        for line in lines.dropFirst().dropLast() {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, fields[parts[0]] == nil else { return nil }
            fields[parts[0]] = parts[1]
        }
        guard fields.count == 5, let stream = fields["stream"], isStreamID(stream),
            let reserved = fields["reserved"].flatMap({ UInt64($0) }),
            let lastSeq = fields["last_seq"].flatMap({ UInt64($0) }), lastSeq <= reserved,
            let boot = fields["boot"], let clean = fields["clean"], clean == "0" || clean == "1"
        else { return nil }
        return SeqState(
            stream: String(stream),
            reserved: reserved,
            lastSeq: lastSeq,
            boot: boot == "-" ? nil : String(boot),
            clean: clean == "1"
        )
    }

    /// 16 lowercase hex digits.
    static func isStreamID(_ text: Substring) -> Bool {
        text.utf8.count == 16 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// A new random stream id.
    static func newStreamID() -> String {
        let hex = String(UInt64.random(in: .min ... .max), radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
