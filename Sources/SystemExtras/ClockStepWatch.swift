internal import CPinpostLinux
public import SystemPackage

/// Notices the wall clock being stepped (settimeofday, an NTP client's step): a CLOCK_REALTIME timerfd armed far
/// in the future with TFD_TIMER_CANCEL_ON_SET becomes readable at once when anyone sets the clock.
/// Put ``descriptor`` in a ``Poll`` and call ``consumeStep()`` when it is readable.
public final class ClockStepWatch: Sendable {
    public let descriptor: FileDescriptor

    /// Non-blocking and close-on-exec.
    public init() throws(SystemError) {
        let raw = try SystemCall.retrying { CPinpostLinux_clock_step_fd() }
            .orThrow("cannot create a clock-step timerfd")
        descriptor = FileDescriptor(rawValue: raw)
    }

    deinit {
        try? descriptor.close()
    }

    /// True if the clock was stepped since the last call; re-arms the watch.
    public func consumeStep() -> Bool {
        CPinpostLinux_clock_step_consume(descriptor.rawValue) == 1
    }
}
