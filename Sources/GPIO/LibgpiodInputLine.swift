internal import CPinpostGPIODShims
internal import Synchronization
internal import SystemPackage

/// The C shim's line handle, freed exactly once; reads and release are serialized by a lock.
final class LineHandle: Sendable {
    /// Only touched under the lock, so the class is safe to share between the edge thread and tasks.
    private let pointer: Mutex<OpaquePointer?>

    init(_ pointer: sending OpaquePointer) {
        self.pointer = Mutex(pointer)
    }

    func withPointer<R: Sendable>(_ body: (OpaquePointer) -> R) -> R? {
        pointer.withLock { current -> R? in
            guard let current else { return nil }
            return body(current)
        }
    }

    func release() {
        pointer.withLock { current in
            CPinpostGPIOD_release(current)
            current = nil
        }
    }

    deinit {
        release()
    }
}

/// A line claimed through libgpiod. Edges are read by one `EdgeWatcher` thread blocked in
/// `poll(2)` on the line's event fd, so waiting costs no CPU and no Swift concurrency thread.
final class LibgpiodInputLine: GPIOInputLine {
    let request: InputLineRequest
    let found: FoundLine
    private let handle: LineHandle
    private let watcher = Mutex<EdgeWatcher?>(nil)

    init(request: InputLineRequest, handle: LineHandle, found: FoundLine) {
        self.request = request
        self.handle = handle
        self.found = found
    }

    func read() async throws(GPIOError) -> Bool {
        let value = handle.withPointer { CPinpostGPIOD_get_value($0) }
        guard let value else { throw GPIOError(.notRequested, "\(request.address) was released") }
        guard value >= 0 else {
            throw GPIOError(
                .readFailed,
                "\(found.chipText) line \(found.offset): reading the value failed: \(Errno(rawValue: -value))"
            )
        }
        return value == 1
    }

    func events() -> AsyncThrowingStream<LineEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<LineEvent, any Error>.makeStream()
        let fd = handle.withPointer { CPinpostGPIOD_event_fd($0) } ?? -1
        guard fd >= 0 else {
            continuation.finish(
                throwing: GPIOError(
                    .notRequested,
                    "\(request.address) was requested without edge detection or was released"
                )
            )
            return stream
        }
        let started: Bool = watcher.withLock { current in
            guard current == nil else { return false }
            do {
                current = try EdgeWatcher(
                    fd: fd,
                    handle: handle,
                    description: "\(found.chipText) line \(found.offset)",
                    continuation: continuation
                )
                return true
            } catch {
                continuation.finish(throwing: error)
                return true
            }
        }
        if !started {
            continuation.finish(
                throwing: GPIOError(.eventsFailed, "\(request.address): events() may be called once per line")
            )
        }
        return stream
    }

    func release() async {
        let current = watcher.withLock { current -> EdgeWatcher? in
            defer { current = nil }
            return current
        }
        current?.stop()
        handle.release()
    }

    deinit {
        watcher.withLock { $0 }?.stop()
    }
}
