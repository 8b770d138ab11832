/// What has been delivered, persisted at each checkpoint: every seq up to `watermark` is done,
/// plus the seqs above it acknowledged out of order. Also the last seq handed out, so numbering
/// continues after the spool emptied.
struct AckState: Equatable {
    var watermark: UInt64 = 0
    var doneAbove: Set<UInt64> = []
    var lastSeq: UInt64 = 0
    var dropped: UInt64 = 0

    /// Text, one field per line: easy to inspect on a device, checked on load.
    func encoded() -> [UInt8] {
        var text = "pinpost-ack 1\nwatermark \(watermark)\nlast_seq \(lastSeq)\ndropped \(dropped)\n"
        for seq in doneAbove.sorted() {
            text += "done \(seq)\n"
        }
        text += "end\n"
        return Array(text.utf8)
    }

    /// Returns nil for damaged content (the caller reports it and recovers from the segments).
    static func decode(_ bytes: [UInt8]) -> AckState? {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n")
        guard lines.first == "pinpost-ack 1", lines.last == "end" else { return nil }
        var state = AckState()
        for line in lines.dropFirst().dropLast() {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let value = UInt64(parts[1]) else { return nil }
            switch parts[0] {
            case "watermark": state.watermark = value
            case "last_seq": state.lastSeq = value
            case "dropped": state.dropped = value
            case "done": state.doneAbove.insert(value)
            default: return nil
            }
        }
        return state
    }
}
