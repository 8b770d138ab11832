internal import Dispatch
internal import SystemExtras

/// Wakes on a wall-clock step (timerfd with TFD_TIMER_CANCEL_ON_SET) and on timesyncd's flag file
/// appearing (inotify on its folder), otherwise after the poll interval: the gate reacts to the
/// event itself rather than to the next poll.
public final class LinuxClockWaiter: ClockWaiter {
    /// Nil when the kernel refused one (then only the other source, and the interval, end a wait).
    private let stepWatch: ClockStepWatch?
    private let flagWatch: DirectoryWatch?
    private let flagName: String
    /// A private serial queue gets its own (overcommit) thread while it blocks in poll(2), so waiting
    /// never occupies the width-limited global pool that Swift concurrency and signal handling share.
    private let queue = DispatchQueue(label: "pinpost.clock-waiter")

    /// - Parameter flagFile: the file whose creation ends a wait; its folder is watched if it exists.
    public init(flagFile: String = TimesyncFlagProbe.defaultPath) {
        stepWatch = try? ClockStepWatch()
        let slash = flagFile.lastIndex(of: "/") ?? flagFile.startIndex
        let folder = String(flagFile[..<slash])
        flagName = String(flagFile[flagFile.index(after: slash)...])
        flagWatch = try? DirectoryWatch(folder: folder.isEmpty ? "/" : folder)
    }

    public var now: Duration {
        SystemClock.boottime.read()
    }

    public func wait(upTo limit: Duration) async -> ClockWakeReason {
        guard let cancellation = try? WakeupPipe() else {
            // No descriptor left for the pipe: wait out the interval, still cancellable.
            try? await Task.sleep(for: limit)
            return .timedOut
        }
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
    private func blockingWait(upTo limit: Duration, cancellation: WakeupPipe) -> ClockWakeReason {
        let deadline = now + limit
        let descriptors = [cancellation.readEnd] + [stepWatch?.descriptor, flagWatch?.descriptor].compactMap { $0 }
        while true {
            let remaining = deadline - now
            if remaining <= .zero { return .timedOut }
            guard let ready = try? Poll.waitForInput(on: descriptors, timeout: min(remaining, .seconds(3600))) else {
                return .timedOut
            }
            if ready[0] { return .timedOut }  // cancelled
            var index = 1
            if let stepWatch {
                if ready[index], stepWatch.consumeStep() { return .stepped }
                index += 1
            }
            if let flagWatch, ready[index], flagWatch.createdNames().contains(flagName) {
                return .flagFileAppeared
            }
        }
    }
}
