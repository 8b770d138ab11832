internal import CPinpostGPIODShims
internal import SystemExtras
internal import SystemPackage

/// A dedicated thread that sleeps in `poll(2)` on a line's event fd and a pipe used to stop it.
///
/// Edge waits block in the kernel (zero CPU while idle) without parking a Swift concurrency thread
/// forever; events are handed to an `AsyncThrowingStream` with their kernel monotonic timestamps.
final class EdgeWatcher: Sendable {
    private let wakeup: WakeupPipe
    private let thread: SystemThread

    init(
        fd: Int32,
        handle: LineHandle,
        description: String,
        continuation: AsyncThrowingStream<LineEvent, any Error>.Continuation
    ) throws(GPIOError) {
        let wakeup: WakeupPipe
        do {
            wakeup = try WakeupPipe()
        } catch {
            throw GPIOError(.eventsFailed, "\(description): \(error)")
        }
        self.wakeup = wakeup
        // Consumer gone: wake the thread so it exits (joined by stop()).
        continuation.onTermination = { _ in wakeup.signal() }
        let line = FileDescriptor(rawValue: fd)
        do {
            thread = try SystemThread {
                Self.loop(line: line, wake: wakeup.readEnd, handle: handle, description: description, continuation)
            }
        } catch {
            throw GPIOError(.eventsFailed, "\(description): could not start the edge thread: \(error)")
        }
    }

    private static func loop(
        line: FileDescriptor,
        wake: FileDescriptor,
        handle: LineHandle,
        description: String,
        _ continuation: AsyncThrowingStream<LineEvent, any Error>.Continuation
    ) {
        var rising = [Int32](repeating: 0, count: 16)
        var stamps = [UInt64](repeating: 0, count: 16)
        while true {
            let ready: [Bool]
            do throws(Errno) {
                ready = try Poll.waitForInput(on: [line, wake], timeout: nil)  // until an edge or stop()
            } catch {
                continuation.finish(throwing: GPIOError(.eventsFailed, "\(description): poll failed: \(error)"))
                return
            }
            if ready[1] {
                continuation.finish()
                return
            }
            guard ready[0] else { continue }
            let count = handle.withPointer { pointer in
                CPinpostGPIOD_read_events(pointer, &rising, &stamps, 16)
            }
            guard let count else {
                continuation.finish()
                return
            }
            if count < 0 {
                continuation.finish(
                    throwing: GPIOError(
                        .eventsFailed,
                        "\(description): reading edge events failed: \(Errno(rawValue: -count))"
                    )
                )
                return
            }
            for index in 0..<Int(count) {
                continuation.yield(
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
        wakeup.signal()
        thread.join()
    }

    deinit {
        stop()
    }
}
