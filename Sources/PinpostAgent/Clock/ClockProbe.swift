internal import CPinpostLinux
#if canImport(Glibc)
internal import Glibc
#endif

/// What one source says about the wall clock.
public struct ClockReport: Sendable, Equatable, CustomStringConvertible {
    public var synchronized: Bool
    /// Where the verdict came from, e.g. `adjtimex`.
    public var source: String
    /// The source's error estimate, in milliseconds, when it has one.
    public var estimatedErrorMilliseconds: Double?
    public var detail: String

    public init(synchronized: Bool, source: String, estimatedErrorMilliseconds: Double?, detail: String) {
        self.synchronized = synchronized
        self.source = source
        self.estimatedErrorMilliseconds = estimatedErrorMilliseconds
        self.detail = detail
    }

    public var description: String {
        let state = synchronized ? "synchronized" : "not synchronized"
        let error = estimatedErrorMilliseconds.map { ", estimated error \($0) ms" } ?? ""
        return "\(state) (\(source): \(detail)\(error))"
    }
}

/// A source of truth about clock synchronization; a protocol so tests can script it.
public protocol ClockProbe: Sendable {
    func report() -> ClockReport
}

/// The kernel's own view through adjtimex(2): `STA_UNSYNC` and the maximum error estimate.
public struct AdjtimexProbe: ClockProbe {
    public var maxErrorMilliseconds: Int

    public init(maxErrorMilliseconds: Int) {
        self.maxErrorMilliseconds = maxErrorMilliseconds
    }

    public func report() -> ClockReport {
        var status = CPinpostLinux_clock_status()
        guard CPinpostLinux_read_clock_status(&status) == 0 else {
            return ClockReport(synchronized: false, source: "adjtimex", estimatedErrorMilliseconds: nil,
                               detail: "adjtimex failed: \(String(cString: strerror(errno)))")
        }
        let maxError = Double(status.max_error_us) / 1000
        let estimated = Double(status.estimated_error_us) / 1000
        if status.unsynchronized != 0 || status.state == CPinpostLinux_TIME_ERROR {
            return ClockReport(synchronized: false, source: "adjtimex", estimatedErrorMilliseconds: estimated,
                               detail: "kernel reports STA_UNSYNC (no NTP discipline yet)")
        }
        if maxError > Double(maxErrorMilliseconds) {
            return ClockReport(synchronized: false, source: "adjtimex", estimatedErrorMilliseconds: estimated,
                               detail: "maximum error \(maxError) ms exceeds time.max_error_ms \(maxErrorMilliseconds)")
        }
        return ClockReport(synchronized: true, source: "adjtimex", estimatedErrorMilliseconds: estimated,
                           detail: "kernel clock disciplined, maximum error \(maxError) ms")
    }
}
