#if canImport(Glibc)
internal import Glibc
#endif

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
        guard lstat(path, &info) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regularFile
        case S_IFDIR: return .directory
        case S_IFLNK: return .symbolicLink
        default: return .other
        }
    }

    /// Makes `path` a folder with exactly `mode`, `owner` and `group`, creating it (and missing parents,
    /// mode 0755) when needed. A symbolic link or a file there is an error, never followed.
    public static func ensureDirectory(_ path: String, mode: UInt32, owner: UInt32, group: UInt32) throws(Failure) {
        var current = path.hasPrefix("/") ? "" : "."
        let components = path.split(separator: "/")
        for (index, component) in components.enumerated() {
            current += "/" + component
            let last = index == components.count - 1
            if mkdir(current, last ? 0o700 : 0o755) != 0 && errno != EEXIST {
                throw Failure(path: current, operation: "cannot create folder", errno: errno)
            }
        }
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            throw Failure(path: path, operation: "cannot open as a folder (a file or symbolic link?)", errno: errno)
        }
        defer { close(fd) }
        guard fchown(fd, owner, group) == 0 else {
            throw Failure(path: path, operation: "cannot set owner \(owner):\(group) of", errno: errno)
        }
        guard fchmod(fd, mode_t(mode)) == 0 else {
            throw Failure(path: path, operation: "cannot set mode \(String(mode, radix: 8)) of", errno: errno)
        }
    }

    /// A new private folder (0700) named `prefix` plus six random characters, inside `folder`.
    public static func createTemporaryDirectory(in folder: String, prefix: String) throws(Failure) -> String {
        var template = Array((folder + "/" + prefix + "XXXXXX").utf8CString)
        guard let created = mkdtemp(&template) else {
            throw Failure(path: folder, operation: "cannot create a staging folder in", errno: errno)
        }
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
    ) throws(Failure) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_t(0o600))
        guard fd >= 0 else { throw Failure(path: path, operation: "cannot create", errno: errno) }
        func fail(_ operation: String) -> Failure {
            let failure = Failure(path: path, operation: operation, errno: errno)
            close(fd)
            unlink(path)
            return failure
        }
        var offset = 0
        while offset < contents.count {
            let written = contents.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw fail("cannot write")
            }
            offset += written
        }
        guard fchown(fd, owner, group) == 0 else { throw fail("cannot set owner \(owner):\(group) of") }
        guard fchmod(fd, mode_t(mode)) == 0 else { throw fail("cannot set mode \(String(mode, radix: 8)) of") }
        guard fsync(fd) == 0 else { throw fail("cannot sync") }
        guard close(fd) == 0 else {
            let failure = Failure(path: path, operation: "cannot close", errno: errno)
            unlink(path)
            throw failure
        }
    }

    /// Atomically replaces `destination` with `source` (same file system). Not named `rename`: that would
    /// shadow the C function for the rest of `FileSystem`.
    public static func renameAtomically(_ source: String, to destination: String) throws(Failure) {
        guard Glibc.rename(source, destination) == 0 else {
            throw Failure(path: destination, operation: "cannot rename '\(source)' to", errno: errno)
        }
    }

    /// Makes a folder's entries (created, renamed, removed files) durable.
    public static func syncDirectory(_ path: String) throws(Failure) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(path: path, operation: "cannot open folder", errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw Failure(path: path, operation: "cannot sync folder", errno: errno) }
    }

    /// Removes an empty folder.
    public static func removeDirectory(_ path: String) throws(Failure) {
        guard rmdir(path) == 0 else { throw Failure(path: path, operation: "cannot remove folder", errno: errno) }
    }
}
