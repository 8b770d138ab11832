#if canImport(Glibc)
internal import Glibc
#endif

/// The few file operations the agent needs, over POSIX calls so each failure keeps its errno.
enum FileSystem {
    struct Failure: Error, CustomStringConvertible {
        var path: String
        var operation: String
        var errno: Int32

        var description: String { "\(operation) '\(path)': \(String(cString: strerror(errno)))" }
    }

    static func readFile(_ path: String, limit: Int = 16 << 20) throws(Failure) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(path: path, operation: "cannot open", errno: errno) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(path: path, operation: "cannot read", errno: errno)
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > limit { throw Failure(path: path, operation: "too large to read", errno: EFBIG) }
        }
        return bytes
    }

    /// Replaces a file's content atomically and durably: write a temporary file, fsync, rename, fsync the folder.
    static func writeFileAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o600) throws(Failure) {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw Failure(path: temporary, operation: "cannot create", errno: errno) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                let error = errno
                close(fd)
                throw Failure(path: temporary, operation: "cannot write", errno: error)
            }
            offset += written
        }
        if fsync(fd) != 0 {
            let error = errno
            close(fd)
            throw Failure(path: temporary, operation: "cannot sync", errno: error)
        }
        close(fd)
        guard rename(temporary, path) == 0 else { throw Failure(path: path, operation: "cannot replace", errno: errno) }
        let folder = directoryName(of: path)
        let folderFD = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folderFD >= 0 {
            _ = fsync(folderFD)
            close(folderFD)
        }
    }

    /// Creates a folder and its parents (mode 0700 for new ones, since agent state is private).
    static func createDirectory(_ path: String) throws(Failure) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o700) != 0 && errno != EEXIST {
                throw Failure(path: current, operation: "cannot create folder", errno: errno)
            }
        }
    }

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "." }
        return String(decoding: buffer.prefix { $0 != 0 }.map(UInt8.init(bitPattern:)), as: UTF8.self)
    }

    static func directoryName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let folder = String(path[..<slash])
        return folder.isEmpty ? "/" : folder
    }

    static func absolute(_ path: String, relativeTo folder: String) -> String {
        path.hasPrefix("/") ? path : (folder == "/" ? "/" + path : folder + "/" + path)
    }
}
