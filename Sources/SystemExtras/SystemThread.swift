internal import Glibc
internal import Synchronization
internal import SystemPackage

/// A dedicated kernel thread (pthread) for work that blocks in a system call for a long time, such as an edge
/// watcher asleep in poll(2): it must not park a Swift concurrency thread, whose pool is small.
public final class SystemThread: Sendable {
    private let thread: Mutex<pthread_t?>

    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// Starts `body` on a new thread; join it with ``join()``.
    public init(_ body: @escaping @Sendable () -> Void) throws(SystemError) {
        var id = pthread_t()
        let retained = Unmanaged.passRetained(Body(body)).toOpaque()
        let status = pthread_create(
            &id,
            nil,
            { raw in
                Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue().run()
                return nil
            },
            retained
        )
        guard status == 0 else {
            Unmanaged<Body>.fromOpaque(retained).release()
            throw SystemError(Errno(rawValue: status), "cannot start a thread")
        }
        thread = Mutex(id)
    }

    /// Waits for the thread to finish; later calls return at once. Never call it from the thread itself.
    public func join() {
        let id: pthread_t? = thread.withLock { current in
            defer { current = nil }
            return current
        }
        guard let id else { return }
        pthread_join(id, nil)
    }
}
