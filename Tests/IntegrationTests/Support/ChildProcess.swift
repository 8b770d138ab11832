import CPinpostLinux
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A child process started with a clean signal mask and default handlers.
///
/// Foundation's `Process` inherits the spawning thread's signal mask, and the test runner's threads
/// block SIGTERM, SIGINT and SIGHUP: a broker started that way never sees SIGTERM and cannot shut
/// down gracefully. posix_spawn with POSIX_SPAWN_SETSIGMASK gives the child what systemd would.
final class ChildProcess: Sendable {
    let pid: pid_t
    /// The harness talks to processes and sockets that tests kill on purpose: a write to one that is gone must fail
    /// with EPIPE, not end the whole test run with SIGPIPE. Children get the default action back (see below).
    static let ignoreBrokenPipes: Void = { _ = Glibc.signal(SIGPIPE, SIG_IGN) }()

    private let status = Mutex<Int32?>(nil)

    /// Starts `executable` with `arguments`, stdout and stderr appended to `outputPath` (or /dev/null).
    /// - Parameter environment: extra variables on top of this process's environment.
    init(
        _ executable: String,
        _ arguments: [String],
        outputPath: String?,
        environment extra: [String: String] = [:]
    ) throws {
        ChildProcess.ignoreBrokenPipes
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let output = outputPath ?? "/dev/null"
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Only stdio is inherited. Tests run in parallel in this process and most of its sockets have no
        // FD_CLOEXEC: a broker or agent started by one test kept another test's proxy connection open after the
        // proxy closed it, so the agent on the far side never learned of the cut (seen as a flaky restart test).
        _ = CPinpostLinux_spawn_close_from(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGPIPE] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for item in argv { free(item) } }
        var variables = ProcessInfo.processInfo.environment
        variables.merge(extra) { _, new in new }
        let envp = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for item in envp { free(item) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw HarnessError("cannot start \(executable): \(String(cString: strerror(result)))")
        }
        pid = child
    }

    var isRunning: Bool {
        reap(blocking: false)
        return status.withLock { $0 == nil }
    }

    func signal(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Waits (bounded) for the exit; returns the exit code, 128+N for death by signal N, or nil on time-out.
    @discardableResult
    func wait(timeout: Duration) -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while isRunning {
            if ContinuousClock.now > deadline { return nil }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return status.withLock { $0 }
    }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`.
    @discardableResult
    func stop(signal first: Int32 = SIGTERM, grace: Duration = .seconds(10)) -> Int32? {
        signal(first)
        if let status = wait(timeout: grace) { return status }
        kill(pid, SIGKILL)
        return wait(timeout: .seconds(5))
    }

    private func reap(blocking: Bool) {
        status.withLock { exitStatus in
            guard exitStatus == nil else { return }
            var raw: Int32 = 0
            let result = waitpid(pid, &raw, blocking ? 0 : WNOHANG)
            guard result == pid else { return }
            let signalNumber = raw & 0x7f
            exitStatus = signalNumber == 0 ? (raw >> 8) & 0xff : 128 + signalNumber
        }
    }

    deinit {
        if isRunning {
            kill(pid, SIGKILL)
            reap(blocking: true)
        }
    }
}
