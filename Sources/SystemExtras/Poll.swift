internal import Glibc
public import SystemPackage

/// Sleeping in the kernel until a descriptor has input (poll(2)), so waiting costs no CPU.
public enum Poll {
    /// Waits until at least one descriptor is readable, hung up or in error, or `timeout` passes (nil: no limit).
    /// Returns one flag per descriptor, true for those that are ready; all false after a time-out.
    ///
    /// An interrupted wait (EINTR) is started again with the whole timeout: callers that need a deadline
    /// recompute the remaining time and call again, as they do after a time-out.
    public static func waitForInput(on descriptors: [FileDescriptor], timeout: Duration?) throws(Errno) -> [Bool] {
        var entries = descriptors.map { pollfd(fd: $0.rawValue, events: Int16(POLLIN), revents: 0) }
        let milliseconds = timeout.map(Self.milliseconds) ?? -1
        _ = try SystemCall.retrying { poll(&entries, nfds_t(entries.count), milliseconds) }.get()
        return entries.map { $0.revents != 0 }
    }

    /// Rounded up, so a positive timeout never becomes a busy loop of zero-length waits; at most about 24 days.
    static func milliseconds(_ duration: Duration) -> Int32 {
        guard duration > .zero else { return 0 }
        let (seconds, attoseconds) = duration.components
        let whole = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        let rest = attoseconds % 1_000_000_000_000_000 > 0 ? 1 : 0
        return Int32(clamping: whole + Int64(rest))
    }
}
