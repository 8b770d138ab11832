internal import SystemExtras

/// systemd-timesyncd creates `/run/systemd/timesync/synchronized` once it has synchronized the
/// clock (and removes it at boot): a cheap yes that also works where adjtimex is not telling.
public struct TimesyncFlagProbe: ClockProbe {
    public static let defaultPath = "/run/systemd/timesync/synchronized"
    public var path: String

    public init(path: String = TimesyncFlagProbe.defaultPath) {
        self.path = path
    }

    public var isSynchronized: Bool { FileSystem.exists(path) }

    public func report() -> ClockReport {
        let present = isSynchronized
        return ClockReport(
            synchronized: present,
            source: "timesyncd",
            estimatedErrorMilliseconds: nil,
            detail: present ? "\(path) present" : "\(path) absent"
        )
    }
}
