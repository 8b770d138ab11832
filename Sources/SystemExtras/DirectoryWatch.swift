internal import Glibc
public import SystemPackage

/// Notices files appearing in one folder (inotify IN_CREATE and IN_MOVED_TO), such as timesyncd's flag file.
/// Put ``descriptor`` in a ``Poll`` and call ``createdNames()`` when it is readable.
public final class DirectoryWatch: Sendable {
    public let descriptor: FileDescriptor

    /// Watches `folder`, which must exist. Non-blocking and close-on-exec.
    public init(folder: String) throws(SystemError) {
        let raw = try SystemCall.retrying { inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC)) }
            .orThrow("cannot create an inotify instance")
        let watched = SystemCall.retrying {
            inotify_add_watch(raw, folder, UInt32(IN_CREATE | IN_MOVED_TO))
        }
        if case .failure(let code) = watched {
            close(raw)
            throw SystemError(code, "cannot watch folder", path: folder)
        }
        descriptor = FileDescriptor(rawValue: raw)
    }

    deinit {
        try? descriptor.close()
    }

    /// Names created or moved into the folder since the last call (drains every pending event; none when
    /// there are none).
    public func createdNames() -> [String] {
        var names: [String] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let headerSize = MemoryLayout<inotify_event>.size
        let nameLengthOffset = MemoryLayout<inotify_event>.offset(of: \.len) ?? 12
        while true {
            let count: Int
            do {
                count = try buffer.withUnsafeMutableBytes { try descriptor.read(into: $0) }
            } catch {
                return names  // EAGAIN: drained (or the descriptor failed: nothing more to learn)
            }
            guard count > 0 else { return names }
            var offset = 0
            while offset + headerSize <= count {
                let nameLength = buffer.withUnsafeBytes {
                    Int($0.loadUnaligned(fromByteOffset: offset + nameLengthOffset, as: UInt32.self))
                }
                let nameBytes = buffer[(offset + headerSize)..<min(offset + headerSize + nameLength, count)]
                names.append(String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self))
                offset += headerSize + nameLength
            }
        }
    }
}
