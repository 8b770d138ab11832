internal import SystemExtras

/// The kernel's own view through adjtimex(2): `STA_UNSYNC` and the maximum error estimate.
public struct AdjtimexProbe: ClockProbe {
    public var maxErrorMilliseconds: Int

    public init(maxErrorMilliseconds: Int) {
        self.maxErrorMilliseconds = maxErrorMilliseconds
    }

    /// The verdict alone, without building the report's text: asked for every reading.
    public var isSynchronized: Bool {
        guard let status = try? KernelClockStatus.read() else { return false }
        return Self.verdict(status, maxErrorMilliseconds: maxErrorMilliseconds)
    }

    static func verdict(_ status: KernelClockStatus, maxErrorMilliseconds: Int) -> Bool {
        !status.isUnsynchronized && !status.isTimeError && status.maximumError <= .milliseconds(maxErrorMilliseconds)
    }

    public func report() -> ClockReport {
        let status: KernelClockStatus
        do {
            status = try KernelClockStatus.read()
        } catch {
            return ClockReport(
                synchronized: false,
                source: "adjtimex",
                estimatedErrorMilliseconds: nil,
                detail: "adjtimex failed: \(error)"
            )
        }
        let maxError = Self.milliseconds(status.maximumError)
        let estimated = Self.milliseconds(status.estimatedError)
        if status.isUnsynchronized || status.isTimeError {
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

    private static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
}
