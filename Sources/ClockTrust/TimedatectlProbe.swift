internal import CPinpostLinux

#if canImport(Glibc)
internal import Glibc
#endif

/// `timedatectl show -p NTPSynchronized --value`, where systemd runs: the view of whatever NTP
/// client the system uses (timesyncd, chrony, ntpd). Spawns a process, so it is for the clock
/// gate's polls, not for every reading.
public struct TimedatectlProbe: ClockProbe {
    public var executable: String

    public init(executable: String = "/usr/bin/timedatectl") {
        self.executable = executable
    }

    /// systemd is PID 1 when this folder exists (sd_booted(3)).
    public static var systemdIsRunning: Bool { access("/run/systemd/system", F_OK) == 0 }

    public func report() -> ClockReport {
        guard Self.systemdIsRunning, access(executable, X_OK) == 0 else {
            return ClockReport(
                synchronized: false,
                source: "timedatectl",
                estimatedErrorMilliseconds: nil,
                detail: "systemd not running"
            )
        }
        guard let output = Subprocess.output(of: executable, ["show", "-p", "NTPSynchronized", "--value"]) else {
            return ClockReport(
                synchronized: false,
                source: "timedatectl",
                estimatedErrorMilliseconds: nil,
                detail: "could not run \(executable)"
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

/// Runs a short-lived helper and captures its standard output (bounded to 4 KiB).
enum Subprocess {
    static func output(of executable: String, _ arguments: [String]) -> String? {
        var pipeEnds: [Int32] = [0, 0]
        // Close-on-exec from the start: a helper spawned meanwhile by another thread must not hold the write end
        // (this read would wait for that helper to exit).
        guard CPinpostLinux_pipe_cloexec(&pipeEnds) == 0 else { return nil }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        // The helper gets stdio only: no broker connection, spool file or GPIO line of the agent's.
        _ = CPinpostLinux_spawn_close_from(&actions, 3)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for item in argv { free(item) } }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, executable, &actions, nil, argv, environ)
        close(pipeEnds[1])
        defer { close(pipeEnds[0]) }
        guard spawned == 0 else { return nil }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 512)
        while bytes.count < 4096 {
            let count = chunk.withUnsafeMutableBytes { read(pipeEnds[0], $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        return String(decoding: bytes, as: UTF8.self)
    }
}
