internal import CPinpostLinux
internal import Dispatch

#if canImport(Glibc)
internal import Glibc
#endif

/// Wakes on a wall-clock step (timerfd with TFD_TIMER_CANCEL_ON_SET) and on timesyncd's flag file
/// appearing (inotify on its folder), otherwise after the poll interval: the gate reacts to the
/// event itself rather than to the next poll.
public final class LinuxClockWaiter: ClockWaiter {
    private let stepDescriptor: Int32
    private let inotifyDescriptor: Int32
    private let flagName: String
    /// A private serial queue gets its own (overcommit) thread while it blocks in poll(2), so waiting
    /// never occupies the width-limited global pool that Swift concurrency and signal handling share.
    private let queue = DispatchQueue(label: "pinpost.clock-waiter")

    /// - Parameter flagFile: the file whose creation ends a wait; its folder is watched if it exists.
    public init(flagFile: String = TimesyncFlagProbe.defaultPath) {
        stepDescriptor = CPinpostLinux_clock_step_fd()
        let slash = flagFile.lastIndex(of: "/") ?? flagFile.startIndex
        let folder = String(flagFile[..<slash])
        flagName = String(flagFile[flagFile.index(after: slash)...])
        let descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        if descriptor >= 0,
            inotify_add_watch(descriptor, folder.isEmpty ? "/" : folder, UInt32(IN_CREATE | IN_MOVED_TO)) >= 0
        {
            inotifyDescriptor = descriptor
        } else {
            if descriptor >= 0 { close(descriptor) }
            inotifyDescriptor = -1
        }
    }

    deinit {
        if stepDescriptor >= 0 { close(stepDescriptor) }
        if inotifyDescriptor >= 0 { close(inotifyDescriptor) }
    }

    public var now: Duration {
        var spec = timespec()
        clock_gettime(CLOCK_BOOTTIME, &spec)
        return .seconds(Int64(spec.tv_sec)) + .nanoseconds(Int64(spec.tv_nsec))
    }

    public func wait(upTo limit: Duration) async -> ClockWakeReason {
        let cancellation = CancellationPipe()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                queue.async { [self] in
                    continuation.resume(returning: blockingWait(upTo: limit, cancellation: cancellation))
                }
            }
        } onCancel: {
            cancellation.signal()
        }
    }

    /// One poll(2) over the step timerfd, the inotify fd and a cancellation pipe: the thread sleeps
    /// in the kernel until something happens, so an idle agent does not wake for nothing.
    private func blockingWait(upTo limit: Duration, cancellation: CancellationPipe) -> ClockWakeReason {
        let deadline = now + limit
        var descriptors = [pollfd(fd: cancellation.readEnd, events: Int16(POLLIN), revents: 0)]
        if stepDescriptor >= 0 { descriptors.append(pollfd(fd: stepDescriptor, events: Int16(POLLIN), revents: 0)) }
        if inotifyDescriptor >= 0 {
            descriptors.append(pollfd(fd: inotifyDescriptor, events: Int16(POLLIN), revents: 0))
        }
        while true {
            let remaining = deadline - now
            if remaining <= .zero { return .timedOut }
            let capped = min(remaining, .seconds(3600))
            let milliseconds = Int32(
                capped.components.seconds * 1000 + capped.components.attoseconds / 1_000_000_000_000_000
            )
            for index in descriptors.indices { descriptors[index].revents = 0 }
            let ready = poll(&descriptors, nfds_t(descriptors.count), max(milliseconds, 1))
            guard ready > 0 else { continue }
            if descriptors[0].revents != 0 { return .timedOut }  // cancelled
            if stepDescriptor >= 0, CPinpostLinux_clock_step_consume(stepDescriptor) == 1 {
                return .stepped
            }
            if inotifyDescriptor >= 0, flagCreated() {
                return .flagFileAppeared
            }
        }
    }

    /// Drains inotify events; true if one named the flag file.
    private func flagCreated() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var found = false
        while true {
            let count = buffer.withUnsafeMutableBytes { read(inotifyDescriptor, $0.baseAddress, $0.count) }
            if count <= 0 { return found }
            var offset = 0
            let headerSize = MemoryLayout<inotify_event>.size
            while offset + headerSize <= count {
                let nameLength = buffer.withUnsafeBytes { Int($0.load(fromByteOffset: offset + 12, as: UInt32.self)) }
                let nameBytes = buffer[(offset + headerSize)..<min(offset + headerSize + nameLength, count)]
                let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
                if name == flagName { found = true }
                offset += headerSize + nameLength
            }
        }
    }
}

/// Wakes a thread blocked in poll(2) when its task is cancelled: the handler writes a byte.
final class CancellationPipe: Sendable {
    let readEnd: Int32
    private let writeEnd: Int32

    init() {
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) == 0 {
            _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        }
        readEnd = ends[0]
        writeEnd = ends[1]
    }

    func signal() {
        guard writeEnd >= 0 else { return }
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }

    deinit {
        if readEnd >= 0 { close(readEnd) }
        if writeEnd >= 0 { close(writeEnd) }
    }
}
