internal import Glibc
public import SystemPackage

/// The file operations the agent needs beyond swift-system's `FileDescriptor`: whole-file reads with a limit,
/// atomic durable replaces, `mkdir -p`, removal, directory listing, path arithmetic.
///
/// Paths are `String`s, as they come from the config file; every failure is a `SystemError` naming the path.
public enum FileSystem {
    /// The whole file; fails with `Errno.fileTooLarge` beyond `limit` bytes, so a wrong path (a device, a log)
    /// cannot exhaust memory.
    public static func readFile(_ path: String, limit: Int = 16 << 20) throws(SystemError) -> [UInt8] {
        let descriptor = try open(path, .readOnly)
        defer { try? descriptor.close() }
        do throws(Errno) {
            return try descriptor.readToEnd(limit: limit)
        } catch {
            throw SystemError(error, error == .fileTooLarge ? "too large to read" : "cannot read", path: path)
        }
    }

    /// Replaces a file's content atomically and durably: writes `<path>.tmp`, fsyncs it, renames it over `path`
    /// and fsyncs the folder. After a crash the file holds either the old or the new content, never a mix.
    public static func writeFileAtomically(
        _ path: String,
        _ bytes: [UInt8],
        permissions: FilePermissions = .ownerReadWrite
    ) throws(SystemError) {
        let temporary = path + ".tmp"
        let descriptor = try open(
            temporary,
            .writeOnly,
            options: [.create, .truncate],
            permissions: permissions,
            operation: "cannot create"
        )
        do throws(SystemError) {
            try writeDurably(bytes, to: descriptor, path: temporary)
            try SystemCall.retryingVoid { rename(temporary, path) }.orThrow("cannot replace", path: path)
        } catch {
            remove(temporary)
            throw error
        }
        // The rename is durable only once the folder is: best effort, the content is safe either way.
        try? syncDirectory(directoryName(of: path))
    }

    /// Writes everything, fsyncs and closes; closes in any case.
    private static func writeDurably(
        _ bytes: [UInt8],
        to descriptor: FileDescriptor,
        path: String
    ) throws(SystemError) {
        do {
            try descriptor.writeAll(bytes)
        } catch {
            try? descriptor.close()
            throw SystemError(Errno.of(error), "cannot write", path: path)
        }
        do throws(Errno) {
            try descriptor.sync()
        } catch {
            try? descriptor.close()
            throw SystemError(error, "cannot sync", path: path)
        }
        do {
            try descriptor.close()
        } catch {
            throw SystemError(Errno.of(error), "cannot close", path: path)
        }
    }

    /// Creates a folder and its missing parents (`mkdir -p`); new ones get `permissions` (0700 by default,
    /// since agent state is private). An existing folder is not an error.
    public static func createDirectory(
        _ path: String,
        permissions: FilePermissions = .ownerReadWriteExecute
    ) throws(SystemError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            switch SystemCall.retryingVoid({ mkdir(current, permissions.rawValue) }) {
            case .success: continue
            case .failure(.fileExists): continue
            case .failure(let code): throw SystemError(code, "cannot create folder", path: current)
            }
        }
    }

    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Whether this process may execute the file (access(2) with X_OK).
    public static func isExecutable(_ path: String) -> Bool {
        access(path, X_OK) == 0
    }

    /// Removes a file; one that is already gone, or cannot be removed, is not an error (clean-up paths).
    public static func remove(_ path: String) {
        _ = try? removeFile(path)
    }

    /// Removes a file (unlink), or a symbolic link without touching its target.
    public static func removeFile(_ path: String) throws(SystemError) {
        try SystemCall.retryingVoid { unlink(path) }.orThrow("cannot remove", path: path)
    }

    /// Removes an empty folder (rmdir).
    public static func removeDirectory(_ path: String) throws(SystemError) {
        try SystemCall.retryingVoid { rmdir(path) }.orThrow("cannot remove folder", path: path)
    }

    /// Sets a file's permission bits (chmod).
    public static func setPermissions(_ path: String, _ permissions: FilePermissions) throws(SystemError) {
        try SystemCall.retryingVoid { chmod(path, permissions.rawValue) }
            .orThrow("cannot change the mode of", path: path)
    }

    /// Makes the folder's entries durable (the names created, renamed or removed in it): fsync on the folder.
    public static func syncDirectory(_ folder: String) throws(SystemError) {
        let descriptor = try open(folder, .readOnly, options: [.directory], operation: "cannot open folder")
        defer { try? descriptor.close() }
        do throws(Errno) {
            try descriptor.sync()
        } catch {
            throw SystemError(error, "cannot sync folder", path: folder)
        }
    }

    /// Names in a folder, without `.` and `..`, in the order the file system gives them.
    public static func contentsOfDirectory(_ folder: String) throws(SystemError) -> [String] {
        let directory = try SystemCall.retryingPointer { opendir(folder) }
            .orThrow("cannot open folder", path: folder)
        defer { closedir(directory) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(directory) else {
                if errno != 0 { throw SystemError(Errno(rawValue: errno), "cannot read folder", path: folder) }
                return names
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
    }

    /// ``contentsOfDirectory(_:)``, or no names when the folder cannot be read (clean-up and recovery paths).
    public static func listDirectory(_ folder: String) -> [String] {
        (try? contentsOfDirectory(folder)) ?? []
    }

    public static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "." }
        return String(decoding: buffer.prefix { $0 != 0 }.map(UInt8.init(bitPattern:)), as: UTF8.self)
    }

    public static func directoryName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let folder = String(path[..<slash])
        return folder.isEmpty ? "/" : folder
    }

    public static func absolute(_ path: String, relativeTo folder: String) -> String {
        path.hasPrefix("/") ? path : (folder == "/" ? "/" + path : folder + "/" + path)
    }

    /// Opens with close-on-exec always set, so no helper the agent spawns inherits the file.
    public static func open(
        _ path: String,
        _ mode: FileDescriptor.AccessMode,
        options: FileDescriptor.OpenOptions = [],
        permissions: FilePermissions? = nil,
        operation: String = "cannot open"
    ) throws(SystemError) -> FileDescriptor {
        do {
            return try FileDescriptor.open(
                FilePath(path),
                mode,
                options: options.union(.closeOnExec),
                permissions: permissions
            )
        } catch {
            throw SystemError(Errno.of(error), operation, path: path)
        }
    }
}
