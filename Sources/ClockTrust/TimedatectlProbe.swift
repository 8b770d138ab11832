internal import SystemExtras

/// `timedatectl show -p NTPSynchronized --value`, where systemd runs: the view of whatever NTP
/// client the system uses (timesyncd, chrony, ntpd). Spawns a process, so it is for the clock
/// gate's polls, not for every reading.
public struct TimedatectlProbe: ClockProbe {
    public var executable: String

    public init(executable: String = "/usr/bin/timedatectl") {
        self.executable = executable
    }

    /// systemd is PID 1 when this folder exists (sd_booted(3)).
    public static var systemdIsRunning: Bool { FileSystem.exists("/run/systemd/system") }

    public func report() -> ClockReport {
        guard Self.systemdIsRunning, FileSystem.isExecutable(executable) else {
            return ClockReport(
                synchronized: false,
                source: "timedatectl",
                estimatedErrorMilliseconds: nil,
                detail: "systemd not running"
            )
        }
        let output: String
        do {
            output = try Subprocess.output(of: executable, ["show", "-p", "NTPSynchronized", "--value"])
        } catch {
            return ClockReport(
                synchronized: false,
                source: "timedatectl",
                estimatedErrorMilliseconds: nil,
                detail: "could not run \(executable): \(error)"
            )
        }
        let answer = output.filter { !$0.isWhitespace }
        return ClockReport(
            synchronized: answer == "yes",
            source: "timedatectl",
            estimatedErrorMilliseconds: nil,
            detail: "NTPSynchronized=\(answer)"
        )
    }
}
