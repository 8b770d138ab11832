/// Several views of the same truth: the clock counts as synchronized when any source says so,
/// and the report names that source (or, when none does, what each one said).
public struct CombinedClockProbe: ClockProbe {
    public var probes: [any ClockProbe]

    public init(probes: [any ClockProbe]) {
        precondition(!probes.isEmpty)
        self.probes = probes
    }

    /// adjtimex and timesyncd's flag file: cheap enough to ask for every reading.
    public static func cheap(maxErrorMilliseconds: Int) -> CombinedClockProbe {
        CombinedClockProbe(probes: [AdjtimexProbe(maxErrorMilliseconds: maxErrorMilliseconds), TimesyncFlagProbe()])
    }

    /// All sources, timedatectl included: for the clock gate and `pinpost check`.
    public static func full(maxErrorMilliseconds: Int) -> CombinedClockProbe {
        CombinedClockProbe(probes: [
            AdjtimexProbe(maxErrorMilliseconds: maxErrorMilliseconds), TimesyncFlagProbe(), TimedatectlProbe(),
        ])
    }

    public var isSynchronized: Bool { probes.contains { $0.isSynchronized } }

    public func report() -> ClockReport {
        var reports: [ClockReport] = []
        for probe in probes {
            let report = probe.report()
            if report.synchronized { return report }
            reports.append(report)
        }
        var first = reports[0]
        if reports.count > 1 {
            first.detail += "; " + reports.dropFirst().map { "\($0.source): \($0.detail)" }.joined(separator: "; ")
        }
        return first
    }
}
