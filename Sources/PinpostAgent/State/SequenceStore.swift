/// The per-device reading counter, persisted under `spool.dir` so it continues across restarts.
///
/// Each number is made durable before the reading carrying it is published: a crash can then
/// never hand out the same `seq` twice, and a subscriber that sees a gap knows a reading was lost.
public final class SequenceStore {
    public let path: String
    public private(set) var last: UInt64

    /// Opens (or creates) `<directory>/seq`.
    public init(directory: String) throws(StateError) {
        do {
            try FileSystem.createDirectory(directory)
        } catch {
            throw StateError(message: "spool.dir: \(error); fix: create the folder or point spool.dir at a folder the agent may write")
        }
        path = directory + "/seq"
        guard FileSystem.exists(path) else {
            last = 0
            return
        }
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(path, limit: 64)
        } catch {
            throw StateError(message: "spool.dir: \(error); fix: make the file readable by the agent")
        }
        let text = String(decoding: bytes, as: UTF8.self).filter { !$0.isWhitespace }
        guard let value = UInt64(text) else {
            throw StateError(message: "'\(path)' does not hold a sequence number ('\(text.prefix(20))'); fix: restore it from a backup, or delete it to restart numbering at 1 (subscribers will see seq go back)")
        }
        last = value
    }

    /// Reserves and durably records the next number.
    public func next() throws(StateError) -> UInt64 {
        let value = last + 1
        do {
            try FileSystem.writeFileAtomically(path, Array("\(value)\n".utf8))
        } catch {
            throw StateError(message: "cannot record seq \(value): \(error); fix: free space on the spool.dir file system or make it writable")
        }
        last = value
        return value
    }
}

/// A failure of the agent's on-disk state.
public struct StateError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
