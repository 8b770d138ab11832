internal import SystemExtras
internal import Timestamps

/// The command ids already handled, kept in `spool.dir/commands/seen` so a command is applied at most once:
/// also when QoS 1 delivers it twice, or a persistent session delivers it again after a reconnect or a restart.
///
/// An id is recorded (the file replaced atomically and durably) before the command is applied, so a crash in
/// between loses the command rather than applying it twice. The newest `capacity` ids are kept; the file stays
/// small (at most about 150 bytes per id).
struct CommandLedger {
    struct Entry: Sendable, Equatable {
        var id: String
        var handledAt: UTCTime
        /// `"ok"`, or the code of the refusal.
        var outcome: String
    }

    static let header = "pinpost-commands 1"

    let path: String
    let capacity: Int
    private(set) var entries: [Entry] = []
    private var index: [String: Int] = [:]
    private var first = 0

    /// Opens the ledger in `folder` (created mode 0700 if missing). A damaged line is skipped; an unreadable
    /// file throws, since starting empty would forget which commands were applied.
    init(folder: String, capacity: Int) throws(SystemError) {
        self.path = folder + "/seen"
        self.capacity = capacity
        try FileSystem.createDirectory(folder)
        guard FileSystem.exists(path) else { return }
        let bytes = try FileSystem.readFile(path, limit: 32 << 20)
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n")
        guard lines.first == Self.header[...] else { return }
        for line in lines.dropFirst() {
            let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, let milliseconds = Int64(parts[0]), !parts[1].isEmpty, !parts[2].isEmpty else {
                continue
            }
            insert(
                Entry(
                    id: String(parts[2]),
                    handledAt: UTCTime(epochMilliseconds: milliseconds),
                    outcome: String(parts[1])
                )
            )
        }
    }

    func lookup(_ id: String) -> Entry? {
        index[id].map { entries[$0] }
    }

    /// Records `id` with its outcome (replacing an earlier outcome of the same id) and makes it durable.
    mutating func record(_ id: String, at time: UTCTime, outcome: String) throws(SystemError) {
        if let position = index[id] {
            entries[position].outcome = outcome
        } else {
            insert(Entry(id: id, handledAt: time, outcome: outcome))
        }
        try save()
    }

    private mutating func insert(_ entry: Entry) {
        if let position = index[entry.id] {
            entries[position] = entry
            return
        }
        index[entry.id] = entries.count
        entries.append(entry)
        if entries.count - first > capacity {
            index[entries[first].id] = nil
            first += 1
        }
        // Compact now and then, so forgotten entries do not pile up in memory.
        if first > capacity {
            entries.removeFirst(first)
            first = 0
            index = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.id, $0) })
        }
    }

    /// The ids remembered, oldest first.
    var remembered: [Entry] { Array(entries[first...]) }

    private func save() throws(SystemError) {
        var text = Self.header + "\n"
        for entry in entries[first...] {
            text += "\(entry.handledAt.epochMilliseconds) \(entry.outcome) \(entry.id)\n"
        }
        try FileSystem.writeFileAtomically(path, Array(text.utf8))
    }
}
