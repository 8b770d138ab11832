internal import SystemExtras
internal import SystemPackage

/// An open spool segment: append at the end, read at an offset, sync, truncate.
///
/// Failures are `SystemError`s whose code is the errno, so a full disk (ENOSPC, EDQUOT) is told apart from damage.
final class SpoolFile {
    let path: String
    private let descriptor: FileDescriptor
    private(set) var size: Int

    init(path: String, create: Bool) throws(SystemError) {
        self.path = path
        descriptor = try FileSystem.open(
            path,
            .readWrite,
            options: create ? [.create] : [],
            permissions: .ownerReadWrite
        )
        size = Int((try? descriptor.seek(offset: 0, from: .end)) ?? 0)
    }

    deinit {
        try? descriptor.close()
    }

    /// Appends all bytes or none: a short write is cut back so the file never ends in a partial record.
    func append(_ bytes: [UInt8]) throws(SystemError) {
        do {
            try descriptor.writeAll(toAbsoluteOffset: Int64(size), bytes)
        } catch {
            try? descriptor.resize(to: Int64(size))
            throw SystemError(error as? Errno ?? .ioError, "cannot append to", path: path)
        }
        size += bytes.count
    }

    func read(offset: Int, count: Int) throws(SystemError) -> [UInt8] {
        do throws(Errno) {
            return try descriptor.read(count: min(count, size - offset), fromAbsoluteOffset: Int64(offset))
        } catch {
            throw SystemError(error, "cannot read", path: path)
        }
    }

    func sync() throws(SystemError) {
        do throws(Errno) {
            try descriptor.synchronizeData()
        } catch {
            throw SystemError(error, "cannot sync", path: path)
        }
    }

    func truncate(to length: Int) throws(SystemError) {
        do {
            try descriptor.resize(to: Int64(length))
        } catch {
            throw SystemError(error as? Errno ?? .ioError, "cannot truncate", path: path)
        }
        size = length
    }
}
