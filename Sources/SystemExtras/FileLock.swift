internal import Glibc
internal import SystemPackage

/// An exclusive advisory lock on a file (flock(2)), as the factory's shell tools take one (`flock registry.lock`):
/// the CA responder and `pinpost-factory` then never write the registry at the same time.
public final class FileLock: Sendable {
    private let descriptor: FileDescriptor

    /// Opens (creating, mode 0600) and locks `path`, waiting at most `timeout` for another holder.
    public init(path: String, timeout: Duration) throws(SystemError) {
        let descriptor = try FileSystem.open(
            path,
            .readWrite,
            options: [.create],
            permissions: .ownerReadWrite,
            operation: "cannot open the lock file"
        )
        let deadline = ContinuousClock.now + timeout
        while true {
            switch SystemCall.retryingVoid({ flock(descriptor.rawValue, LOCK_EX | LOCK_NB) }) {
            case .success:
                self.descriptor = descriptor
                return
            case .failure(.wouldBlock) where ContinuousClock.now < deadline:
                // Another process holds it (a factory run takes well under a second): look again shortly.
                var pause = timespec(tv_sec: 0, tv_nsec: 20_000_000)
                _ = nanosleep(&pause, nil)
            case .failure(let code):
                try? descriptor.close()
                throw SystemError(code, "cannot lock", path: path)
            }
        }
    }

    deinit {
        _ = flock(descriptor.rawValue, LOCK_UN)
        try? descriptor.close()
    }
}
