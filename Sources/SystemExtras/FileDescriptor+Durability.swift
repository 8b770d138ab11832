internal import Glibc
public import SystemPackage

/// What swift-system's `FileDescriptor` lacks for durable storage: fsync(2) and fdatasync(2).
extension FileDescriptor {
    /// Flushes the file's data and metadata to the storage device (fsync).
    public func sync() throws(Errno) {
        try SystemCall.retryingVoid { fsync(rawValue) }.get()
    }

    /// Flushes the file's data, and only the metadata needed to read it back (fdatasync): cheaper than
    /// `sync()` for appends, where the size is the only metadata that matters.
    public func synchronizeData() throws(Errno) {
        try SystemCall.retryingVoid { fdatasync(rawValue) }.get()
    }
}
