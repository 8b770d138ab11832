#if canImport(Glibc)
import Glibc
#endif

/// Overwrite-then-unlink for the device's secrets, so `pinpost decommission` leaves no key or spool
/// readable through the file system.
///
/// Each regular file is overwritten in place with random bytes, `fsync`ed, truncated, `fsync`ed
/// again, then unlinked, and its folder `fsync`ed so the unlink is durable. What this cannot
/// guarantee: on flash (eMMC, SD cards, SSDs) the controller remaps writes (wear levelling), so old
/// blocks may survive until it erases them; copy-on-write or journalling file systems (btrfs,
/// data=journal ext4) and snapshots or backups may keep copies. Where that matters, keep the key in
/// a TPM or secure element, or use full-disk encryption and destroy its key.
enum SecureErase {
    struct Failure: Error, CustomStringConvertible {
        var path: String
        var operation: String
        var code: Int32
        var description: String { "\(operation) '\(path)': \(String(cString: strerror(code)))" }
    }

    /// Overwrites and unlinks one regular file; returns the number of bytes overwritten.
    /// Symbolic links are unlinked without touching their target.
    @discardableResult
    static func eraseFile(_ path: String) throws(Failure) -> Int {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw Failure(path: path, operation: "cannot stat", code: errno) }
        if info.st_mode & S_IFMT == S_IFLNK {
            guard unlink(path) == 0 else { throw Failure(path: path, operation: "cannot unlink", code: errno) }
            return 0
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw Failure(path: path, operation: "not a regular file", code: EINVAL)
        }
        let fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw Failure(path: path, operation: "cannot open for overwriting", code: errno) }
        defer { close(fd) }
        let size = Int(info.st_size)
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var offset = 0
        while offset < size {
            let count = min(buffer.count, size - offset)
            try fillRandom(&buffer, count: count)
            let written = buffer.withUnsafeBytes { pwrite(fd, $0.baseAddress!, count, off_t(offset)) }
            if written < 0 {
                if errno == EINTR { continue }
                throw Failure(path: path, operation: "cannot overwrite", code: errno)
            }
            offset += written
        }
        guard fsync(fd) == 0 else { throw Failure(path: path, operation: "cannot fsync", code: errno) }
        guard ftruncate(fd, 0) == 0, fsync(fd) == 0 else {
            throw Failure(path: path, operation: "cannot truncate", code: errno)
        }
        guard unlink(path) == 0 else { throw Failure(path: path, operation: "cannot unlink", code: errno) }
        syncFolder(of: path)
        return size
    }

    /// Erases every file below `folder` (depth first) and removes the subfolders; keeps `folder` itself,
    /// which systemd's StateDirectory= owns. Returns the erased files' paths.
    static func eraseContents(of folder: String) throws(Failure) -> [String] {
        guard let directory = opendir(folder) else {
            if errno == ENOENT { return [] }
            throw Failure(path: folder, operation: "cannot open folder", code: errno)
        }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        closedir(directory)
        var erased: [String] = []
        for name in names.sorted() {
            let path = folder + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0 else { throw Failure(path: path, operation: "cannot stat", code: errno) }
            if info.st_mode & S_IFMT == S_IFDIR {
                erased += try eraseContents(of: path)
                guard rmdir(path) == 0 else {
                    throw Failure(path: path, operation: "cannot remove folder", code: errno)
                }
            } else {
                try eraseFile(path)
                erased.append(path)
            }
        }
        return erased
    }

    /// Random bytes from /dev/urandom (getrandom(2) is not exported by the Glibc module).
    private static func fillRandom(_ buffer: inout [UInt8], count: Int) throws(Failure) {
        let fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(path: "/dev/urandom", operation: "cannot open", code: errno) }
        defer { close(fd) }
        var filled = 0
        while filled < count {
            let got = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, count - filled) }
            if got > 0 {
                filled += got
            } else if got < 0 && errno == EINTR {
                continue
            } else {
                throw Failure(path: "/dev/urandom", operation: "cannot read", code: got < 0 ? errno : EIO)
            }
        }
    }

    private static func syncFolder(of path: String) {
        let folder = path.lastIndex(of: "/").map { String(path[..<$0]) }.flatMap { $0.isEmpty ? "/" : $0 } ?? "."
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }
}
