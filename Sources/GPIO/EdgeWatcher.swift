internal import CPinpostGPIODShims
internal import Synchronization

#if canImport(Glibc)
internal import Glibc
#endif

/// A dedicated thread that sleeps in `poll(2)` on a line's event fd and a pipe used to stop it.
///
/// Edge waits block in the kernel (zero CPU while idle) without parking a Swift concurrency thread
/// forever; events are handed to an `AsyncThrowingStream` with their kernel monotonic timestamps.
final class EdgeWatcher: Sendable {
    /// Write end of the stop pipe; the thread polls the read end.
    private let wakeFD: Int32
    private let wakeReadFD: Int32
    private let thread: Mutex<pthread_t?>

    private final class Context: @unchecked Sendable {
        // Immutable after init; handed to the thread once.
        let lineFD: Int32
        let wakeFD: Int32
        let handle: LineHandle
        let description: String
        let continuation: AsyncThrowingStream<LineEvent, any Error>.Continuation

        init(
            lineFD: Int32,
            wakeFD: Int32,
            handle: LineHandle,
            description: String,
            continuation: AsyncThrowingStream<LineEvent, any Error>.Continuation
        ) {
            self.lineFD = lineFD
            self.wakeFD = wakeFD
            self.handle = handle
            self.description = description
            self.continuation = continuation
        }
    }

    init(
        fd: Int32,
        handle: LineHandle,
        description: String,
        continuation: AsyncThrowingStream<LineEvent, any Error>.Continuation
    ) throws(GPIOError) {
        var pipeFDs: [Int32] = [-1, -1]
        guard pipe(&pipeFDs) == 0 else {
            throw GPIOError("\(description): pipe failed: \(String(cString: strerror(errno)))")
        }
        for fd in pipeFDs { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let wake = pipeFDs[1]
        wakeFD = wake
        wakeReadFD = pipeFDs[0]
        let context = Context(
            lineFD: fd,
            wakeFD: pipeFDs[0],
            handle: handle,
            description: description,
            continuation: continuation
        )
        continuation.onTermination = { _ in
            // Consumer gone: wake the thread so it exits (joined by stop()).
            var one: UInt64 = 1
            _ = write(wake, &one, 1)
        }
        var tid = pthread_t()
        let retained = Unmanaged.passRetained(context).toOpaque()
        let status = pthread_create(
            &tid,
            nil,
            { raw in
                let context = Unmanaged<Context>.fromOpaque(raw!).takeRetainedValue()
                EdgeWatcher.loop(context)
                return nil
            },
            retained
        )
        guard status == 0 else {
            Unmanaged<Context>.fromOpaque(retained).release()
            close(pipeFDs[0])
            close(pipeFDs[1])
            throw GPIOError("\(description): could not start the edge thread: \(String(cString: strerror(status)))")
        }
        thread = Mutex(tid)
    }

    private static func loop(_ context: Context) {
        var rising = [Int32](repeating: 0, count: 16)
        var stamps = [UInt64](repeating: 0, count: 16)
        var fds = [
            pollfd(fd: context.lineFD, events: Int16(POLLIN), revents: 0),
            pollfd(fd: context.wakeFD, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            fds[0].revents = 0
            fds[1].revents = 0
            let ready = poll(&fds, 2, -1)  // blocks in the kernel until an edge or stop()
            if ready < 0 {
                if errno == EINTR { continue }
                context.continuation.finish(
                    throwing: GPIOError("\(context.description): poll failed: \(String(cString: strerror(errno)))")
                )
                return
            }
            if fds[1].revents != 0 {
                context.continuation.finish()
                return
            }
            guard fds[0].revents != 0 else { continue }
            let count = context.handle.withPointer { pointer in
                CPinpostGPIOD_read_events(pointer, &rising, &stamps, 16)
            }
            guard let count else {
                context.continuation.finish()
                return
            }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                context.continuation.finish(
                    throwing: GPIOError(
                        "\(context.description): reading edge events failed: \(String(cString: strerror(errno)))"
                    )
                )
                return
            }
            for index in 0..<Int(count) {
                context.continuation.yield(
                    LineEvent(
                        edge: rising[index] != 0 ? .rising : .falling,
                        timestamp: MonotonicInstant(nanoseconds: stamps[index])
                    )
                )
            }
        }
    }

    /// Wakes the thread and waits for it to exit; idempotent.
    func stop() {
        let tid: pthread_t? = thread.withLock { current in
            defer { current = nil }
            return current
        }
        guard let tid else { return }
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 1)
        pthread_join(tid, nil)
        close(wakeFD)
        close(wakeReadFD)
    }

    deinit {
        stop()
    }
}
