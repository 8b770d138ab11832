internal import CPinpostLinux
internal import Glibc
internal import SystemPackage

/// Runs a short-lived helper (e.g. `timedatectl`) and captures its standard output.
///
/// The helper inherits stdio only: standard input as the agent has it, standard output into a pipe, standard
/// error to /dev/null, and every other descriptor closed (posix_spawn's close-from action). An inherited broker
/// socket would keep the connection open after the agent closed it; an inherited pipe end would keep another
/// helper's read waiting.
public enum Subprocess {
    /// The helper's standard output (at most `limit` bytes; the rest is not read). Waits for it to exit.
    /// Throws when the pipe cannot be made or the helper cannot be started (a missing executable is ENOENT).
    public static func output(
        of executable: String,
        _ arguments: [String],
        limit: Int = 4096
    ) throws(SystemError) -> String {
        let (bytes, _) = try capture(executable, arguments, limit: limit, withStandardError: false)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// What a helper printed and how it ended.
    public struct Result: Sendable, Equatable {
        /// The exit status (0-255), or 128 + the signal that killed it.
        public var status: Int32
        /// Standard output and standard error, interleaved as written (at most the limit asked for).
        public var output: String
    }

    /// Runs a helper to its end, like ``output(of:_:limit:)`` but with its standard error in the output too and
    /// its exit status, for helpers whose failure must be reported (the CA's `pinpost-pki`).
    public static func run(
        _ executable: String,
        _ arguments: [String],
        limit: Int = 65536
    ) throws(SystemError) -> Result {
        let (bytes, status) = try capture(executable, arguments, limit: limit, withStandardError: true)
        let code: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return Result(status: code, output: String(decoding: bytes, as: UTF8.self))
    }

    /// Spawns the helper with its standard output (and, `withStandardError`, its standard error) into a pipe, reads
    /// at most `limit` bytes and waits for it; returns what was read and the raw wait status (SIGKILL's when
    /// unknown). Without standard error the pipe is closed at the limit (a helper that writes more gets EPIPE
    /// instead of blocking); with it, the rest is read and dropped, so a failing helper's last lines still end.
    private static func capture(
        _ executable: String,
        _ arguments: [String],
        limit: Int,
        withStandardError: Bool
    ) throws(SystemError) -> (bytes: [UInt8], status: Int32) {
        var ends: [Int32] = [-1, -1]
        // Close-on-exec from the start: a helper spawned meanwhile by another thread must not hold the write end
        // (this read would wait for that helper to exit).
        try SystemCall.retryingVoid { CPinpostLinux_pipe_cloexec(&ends) }.orThrow("cannot create a pipe")
        let readEnd = FileDescriptor(rawValue: ends[0])
        let child: pid_t
        do {
            defer { close(ends[1]) }
            child = try spawn(
                executable,
                arguments,
                standardOutput: ends[1],
                standardError: withStandardError ? ends[1] : nil
            )
        } catch {
            try? readEnd.close()
            throw error
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while withStandardError || bytes.count < limit {
            let count = (try? chunk.withUnsafeMutableBytes { try readEnd.read(into: $0) }) ?? 0
            if count <= 0 { break }
            if bytes.count < limit { bytes.append(contentsOf: chunk[0..<min(count, limit - bytes.count)]) }
        }
        // Closed once, here, before waiting: a second close could hit a descriptor another thread opened meanwhile.
        try? readEnd.close()
        return (bytes, waitForExit(child) ?? (128 + 9))
    }

    private static func spawn(
        _ executable: String,
        _ arguments: [String],
        standardOutput: Int32,
        standardError: Int32? = nil
    ) throws(SystemError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        try SystemCall.result(ofErrorNumber: posix_spawn_file_actions_init(&actions))
            .orThrow("cannot prepare to start", path: executable)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var prepared = [
            posix_spawn_file_actions_adddup2(&actions, standardOutput, 1),
            standardError.map { posix_spawn_file_actions_adddup2(&actions, $0, 2) }
                ?? posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0),
            // The helper gets stdio only: no broker connection, spool file or GPIO line of the agent's.
            CPinpostLinux_spawn_close_from(&actions, 3),
        ]
        prepared.removeAll { $0 == 0 }
        if let failure = prepared.first {
            throw SystemError(Errno(rawValue: failure), "cannot prepare to start", path: executable)
        }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for item in argv { free(item) } }
        var child: pid_t = 0
        try SystemCall.result(ofErrorNumber: posix_spawn(&child, executable, &actions, nil, argv, environ))
            .orThrow("cannot start", path: executable)
        return child
    }

    /// Reaps the child; its wait status, or nil if it cannot be waited for.
    @discardableResult
    private static func waitForExit(_ child: pid_t) -> Int32? {
        var status: Int32 = 0
        guard case .success = SystemCall.retrying({ waitpid(child, &status, 0) }) else { return nil }
        return status
    }
}
