internal import Glibc
internal import SystemPackage

/// Installing files for another user, as root does with the agent's identity: look without following
/// links, create exclusively, set owner and mode on the open descriptor, sync, rename into place.
extension FileSystem {
    /// What a path is, without following a final symbolic link.
    public enum EntryKind: Sendable, Equatable {
        case regularFile
        case directory
        case symbolicLink
        case other
    }

    /// What `path` is (`lstat`); nil when nothing is there (or it cannot be looked at).
    public static func entryKind(_ path: String) -> EntryKind? {
        var info = stat()
        guard case .success = SystemCall.retryingVoid({ lstat(path, &info) }) else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regularFile
        case S_IFDIR: return .directory
        case S_IFLNK: return .symbolicLink
        default: return .other
        }
    }

    /// Makes `path` a folder with exactly `mode`, `owner` and `group`, creating it (and missing parents,
    /// mode 0755) when needed. A symbolic link or a file there is an error, never followed.
    public static func ensureDirectory(_ path: String, mode: UInt32, owner: UInt32, group: UInt32) throws(SystemError) {
        var current = path.hasPrefix("/") ? "" : "."
        let components = path.split(separator: "/")
        for (index, component) in components.enumerated() {
            current += "/" + component
            let last = index == components.count - 1
            switch SystemCall.retryingVoid({ mkdir(current, last ? 0o700 : 0o755) }) {
            case .success, .failure(.fileExists): continue
            case .failure(let code): throw SystemError(code, "cannot create folder", path: current)
            }
        }
        let descriptor = try open(
            path,
            .readOnly,
            options: [.directory, .noFollow],
            operation: "cannot open as a folder (a file or symbolic link?)"
        )
        defer { try? descriptor.close() }
        try SystemCall.retryingVoid { fchown(descriptor.rawValue, owner, group) }
            .orThrow("cannot set owner \(owner):\(group) of", path: path)
        try SystemCall.retryingVoid { fchmod(descriptor.rawValue, mode_t(mode)) }
            .orThrow("cannot set mode \(String(mode, radix: 8)) of", path: path)
    }

    /// A new private folder (0700) named `prefix` plus six random characters, inside `folder`.
    public static func createTemporaryDirectory(in folder: String, prefix: String) throws(SystemError) -> String {
        var template = Array((folder + "/" + prefix + "XXXXXX").utf8CString)
        let created = try SystemCall.retryingPointer { mkdtemp(&template) }
            .orThrow("cannot create a staging folder in", path: folder)
        return String(cString: created)
    }

    /// Writes a new file (an existing one, or a symbolic link, at `path` is an error), sets its owner and
    /// mode and syncs it. On failure nothing is left at `path`.
    public static func createFile(
        _ path: String,
        contents: [UInt8],
        mode: UInt32,
        owner: UInt32,
        group: UInt32
    ) throws(SystemError) {
        let descriptor = try open(
            path,
            .writeOnly,
            options: [.create, .exclusiveCreate, .noFollow],
            permissions: .ownerReadWrite,
            operation: "cannot create"
        )
        do throws(SystemError) {
            do {
                try descriptor.writeAll(contents)
            } catch {
                throw SystemError(Errno.of(error), "cannot write", path: path)
            }
            try SystemCall.retryingVoid { fchown(descriptor.rawValue, owner, group) }
                .orThrow("cannot set owner \(owner):\(group) of", path: path)
            try SystemCall.retryingVoid { fchmod(descriptor.rawValue, mode_t(mode)) }
                .orThrow("cannot set mode \(String(mode, radix: 8)) of", path: path)
            do throws(Errno) {
                try descriptor.sync()
            } catch {
                throw SystemError(error, "cannot sync", path: path)
            }
        } catch {
            try? descriptor.close()
            remove(path)
            throw error
        }
        do {
            try descriptor.close()
        } catch {
            remove(path)
            throw SystemError(Errno.of(error), "cannot close", path: path)
        }
    }

    /// Atomically replaces `destination` with `source` (same file system). Not named `rename`: that would
    /// shadow the C function for the rest of `FileSystem`.
    public static func renameAtomically(_ source: String, to destination: String) throws(SystemError) {
        try SystemCall.retryingVoid { rename(source, destination) }
            .orThrow("cannot rename '\(source)' to", path: destination)
    }
}
