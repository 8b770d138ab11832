internal import CPinpostLinux

#if canImport(Glibc)
internal import Glibc
#endif

/// The kernel's own view through adjtimex(2): `STA_UNSYNC` and the maximum error estimate.
public struct AdjtimexProbe: ClockProbe {
    public var maxErrorMilliseconds: Int

    public init(maxErrorMilliseconds: Int) {
        self.maxErrorMilliseconds = maxErrorMilliseconds
    }

    /// The verdict alone, without building the report's text: asked for every reading.
    public var isSynchronized: Bool {
        var status = CPinpostLinux_clock_status()
        guard CPinpostLinux_read_clock_status(&status) == 0 else { return false }
        return Self.verdict(status, maxErrorMilliseconds: maxErrorMilliseconds)
    }

    static func verdict(_ status: CPinpostLinux_clock_status, maxErrorMilliseconds: Int) -> Bool {
        status.unsynchronized == 0 && status.state != CPinpostLinux_TIME_ERROR
            && Double(status.max_error_us) / 1000 <= Double(maxErrorMilliseconds)
    }

    public func report() -> ClockReport {
        var status = CPinpostLinux_clock_status()
        guard CPinpostLinux_read_clock_status(&status) == 0 else {
            return ClockReport(
                synchronized: false,
                source: "adjtimex",
                estimatedErrorMilliseconds: nil,
                detail: "adjtimex failed: \(String(cString: strerror(errno)))"
            )
        }
        let maxError = Double(status.max_error_us) / 1000
        let estimated = Double(status.estimated_error_us) / 1000
        if status.unsynchronized != 0 || status.state == CPinpostLinux_TIME_ERROR {
            return ClockReport(
                synchronized: false,
                source: "adjtimex",
                estimatedErrorMilliseconds: estimated,
                detail: "kernel reports STA_UNSYNC (no NTP discipline yet)"
            )
        }
        if maxError > Double(maxErrorMilliseconds) {
            return ClockReport(
                synchronized: false,
                source: "adjtimex",
                estimatedErrorMilliseconds: estimated,
                detail: "maximum error \(maxError) ms exceeds time.max_error_ms \(maxErrorMilliseconds)"
            )
        }
        return ClockReport(
            synchronized: true,
            source: "adjtimex",
            estimatedErrorMilliseconds: estimated,
            detail: "kernel clock disciplined, maximum error \(maxError) ms"
        )
    }
}
