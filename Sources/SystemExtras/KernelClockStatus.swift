internal import CPinpostLinux
public import SystemPackage

/// The kernel's clock discipline as adjtimex(2) reports it (read only; nothing is changed).
public struct KernelClockStatus: Sendable, Equatable {
    /// STA_UNSYNC is set: the kernel does not consider the clock synchronized.
    public var isUnsynchronized: Bool
    /// The clock state is TIME_ERROR ("clock not synchronized").
    public var isTimeError: Bool
    /// The kernel's maximum error estimate.
    public var maximumError: Duration
    /// The kernel's estimated error.
    public var estimatedError: Duration

    public init(isUnsynchronized: Bool, isTimeError: Bool, maximumError: Duration, estimatedError: Duration) {
        self.isUnsynchronized = isUnsynchronized
        self.isTimeError = isTimeError
        self.maximumError = maximumError
        self.estimatedError = estimatedError
    }

    public static func read() throws(Errno) -> KernelClockStatus {
        var status = CPinpostLinux_clock_status()
        try SystemCall.retryingVoid { CPinpostLinux_read_clock_status(&status) }.get()
        return KernelClockStatus(
            isUnsynchronized: status.unsynchronized != 0,
            isTimeError: status.state == CPinpostLinux_TIME_ERROR,
            maximumError: .microseconds(status.max_error_us),
            estimatedError: .microseconds(status.estimated_error_us)
        )
    }
}
