public import SystemPackage

/// A pipe whose only message is "wake up": a thread asleep in ``Poll`` includes ``readEnd``, and another thread
/// or a cancellation handler calls ``signal()``. Owns both ends (swift-system's descriptors are not owning).
public final class WakeupPipe: Sendable {
    public let readEnd: FileDescriptor
    private let writeEnd: FileDescriptor

    /// Both ends are close-on-exec from creation, so no helper spawned meanwhile inherits them.
    public init() throws(SystemError) {
        do {
            (readEnd, writeEnd) = try FileDescriptor.pipe(options: .closeOnExec)
        } catch {
            throw SystemError(Errno.of(error), "cannot create a pipe")
        }
    }

    /// Makes ``readEnd`` readable from now on (the byte is never drained: once woken, the sleeper is done).
    public func signal() {
        _ = try? writeEnd.writeAll([1])
    }

    deinit {
        try? readEnd.close()
        try? writeEnd.close()
    }
}
