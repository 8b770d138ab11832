#if canImport(Glibc)
internal import Glibc
#endif

/// An open spool segment: append at the end, read at an offset, sync, truncate.
///
/// Thin POSIX wrapper so each failure keeps its errno (ENOSPC must be told apart from damage).
final class SpoolFile {
    let path: String
    private let descriptor: Int32
    private(set) var size: Int

    struct Failure: Error, CustomStringConvertible {
        var path: String
        var operation: String
        var errno: Int32
        var isDiskFull: Bool { errno == ENOSPC || errno == EDQUOT }
        var description: String { "\(operation) '\(path)': \(String(cString: strerror(errno)))" }
    }

    init(path: String, create: Bool) throws(Failure) {
        self.path = path
        let flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0)
        let descriptor = open(path, flags, 0o600)
        guard descriptor >= 0 else { throw Failure(path: path, operation: "cannot open", errno: errno) }
        self.descriptor = descriptor
        let end = lseek(descriptor, 0, SEEK_END)
        size = end < 0 ? 0 : Int(end)
    }

    deinit {
        close(descriptor)
    }

    /// Appends all bytes or none: a short write is cut back so the file never ends in a partial record.
    func append(_ bytes: [UInt8]) throws(Failure) {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes {
                pwrite(descriptor, $0.baseAddress! + written, $0.count - written, off_t(size + written))
            }
            if result < 0 {
                if errno == EINTR { continue }
                let error = errno
                _ = ftruncate(descriptor, off_t(size))
                throw Failure(path: path, operation: "cannot append to", errno: error)
            }
            written += result
        }
        size += bytes.count
    }

    func read(offset: Int, count: Int) throws(Failure) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: max(0, min(count, size - offset)))
        var done = 0
        while done < bytes.count {
            let result = bytes.withUnsafeMutableBytes {
                pread(descriptor, $0.baseAddress! + done, $0.count - done, off_t(offset + done))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw Failure(path: path, operation: "cannot read", errno: errno)
            }
            if result == 0 { break }
            done += result
        }
        return Array(bytes[0..<done])
    }

    func sync() throws(Failure) {
        guard fdatasync(descriptor) == 0 else { throw Failure(path: path, operation: "cannot sync", errno: errno) }
    }

    func truncate(to length: Int) throws(Failure) {
        guard ftruncate(descriptor, off_t(length)) == 0 else {
            throw Failure(path: path, operation: "cannot truncate", errno: errno)
        }
        size = length
    }
}
