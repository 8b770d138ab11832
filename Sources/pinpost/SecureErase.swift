import SystemExtras
import SystemPackage

/// Overwrite-then-unlink for the device's secrets, so `pinpost decommission` leaves no key or spool
/// readable through the file system.
///
/// Each regular file is overwritten in place with random bytes, `fsync`ed, truncated, `fsync`ed
/// again, then unlinked, and its folder `fsync`ed so the unlink is durable. What this cannot
/// guarantee: on flash (eMMC, SD cards, SSDs) the controller remaps writes (wear levelling), so old
/// blocks may survive until it erases them; copy-on-write or journalling file systems (btrfs,
/// data=journal ext4) and snapshots or backups may keep copies. Where that matters, keep the key in
/// a TPM or secure element, or use full-disk encryption and destroy its key.
///
/// Failures are `SystemError`s: the errno as code, the operation and the file.
enum SecureErase {
    /// Overwrites and unlinks one regular file; returns the number of bytes overwritten.
    /// Symbolic links are unlinked without touching their target.
    @discardableResult
    static func eraseFile(_ path: String) throws(SystemError) -> Int {
        let info = try status(path)
        if info.type == .symbolicLink {
            try FileSystem.removeFile(path)
            return 0
        }
        guard info.type == .regular else { throw SystemError(.invalidArgument, "not a regular file", path: path) }
        let descriptor = try FileSystem.open(
            path,
            .writeOnly,
            options: [.noFollow],
            operation: "cannot open for overwriting"
        )
        defer { try? descriptor.close() }
        let size = Int(info.size)
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var offset = 0
        while offset < size {
            let count = min(buffer.count, size - offset)
            try SecureRandom.fill(&buffer, count: count)
            do {
                try descriptor.writeAll(toAbsoluteOffset: Int64(offset), buffer[0..<count])
            } catch {
                throw SystemError(error as? Errno ?? .ioError, "cannot overwrite", path: path)
            }
            offset += count
        }
        do throws(Errno) {
            try descriptor.sync()
        } catch {
            throw SystemError(error, "cannot fsync", path: path)
        }
        do {
            try descriptor.resize(to: 0)
            try descriptor.sync()
        } catch {
            throw SystemError(error as? Errno ?? .ioError, "cannot truncate", path: path)
        }
        try FileSystem.removeFile(path)
        try? FileSystem.syncDirectory(FileSystem.directoryName(of: path))
        return size
    }

    /// Erases every file below `folder` (depth first) and removes the subfolders; keeps `folder` itself,
    /// which systemd's StateDirectory= owns. Returns the erased files' paths.
    static func eraseContents(of folder: String) throws(SystemError) -> [String] {
        let names: [String]
        do throws(SystemError) {
            names = try FileSystem.contentsOfDirectory(folder)
        } catch {
            if error.isNotFound { return [] }
            throw error
        }
        var erased: [String] = []
        for name in names.sorted() {
            let path = folder + "/" + name
            if try status(path).type == .directory {
                erased += try eraseContents(of: path)
                try FileSystem.removeDirectory(path)
            } else {
                try eraseFile(path)
                erased.append(path)
            }
        }
        return erased
    }

    /// lstat: about a symbolic link itself, never its target.
    private static func status(_ path: String) throws(SystemError) -> Stat {
        do throws(Errno) {
            return try Stat(FilePath(path), followTargetSymlink: false)
        } catch {
            throw SystemError(error, "cannot stat", path: path)
        }
    }
}
