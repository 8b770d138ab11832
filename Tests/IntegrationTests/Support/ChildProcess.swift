import CPinpostLinux
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A child process started with a clean signal mask and default handlers, which cannot outlive its test.
///
/// Foundation's `Process` inherits the spawning thread's signal mask, and the test runner's threads
/// block SIGTERM, SIGINT and SIGHUP: a broker started that way never sees SIGTERM and cannot shut
/// down gracefully. posix_spawn with POSIX_SPAWN_SETSIGMASK gives the child what systemd would.
///
/// Every process a test starts is gone when the test ends, whatever its outcome:
/// - The child leads its own process group. However it ends (``stop(signal:grace:)``, ``kill()``, `deinit`, a
///   time-out in ``Command``), the whole group is killed before its exit status is collected, so what it started
///   goes with it (Erlang's `erl_child_setup`, QEMU under `run-test`, openssl under `pinpost-pki`). The status is
///   collected last so that the group id stays reserved until then and the kill cannot reach a stranger.
/// - It runs under `setpriv --pdeathsig KILL`, so it dies with the test process even when that crashes or is
///   killed. The kernel sends that signal when the *thread* that spawned the child ends, so every spawn happens on
///   ``ChildSpawner``'s thread, which lives as long as the process.
/// - Its environment carries ``HarnessMarker`` (the test process and the ``ChildScope`` it was started in),
///   inherited by everything it starts in turn; the scope's check at the end of each test finds leftovers by it.
final class ChildProcess: Sendable {
    let pid: pid_t
    /// The command line, for messages.
    let commandLine: String
    /// The harness talks to processes and sockets that tests kill on purpose: a write to one that is gone must fail
    /// with EPIPE, not end the whole test run with SIGPIPE. Children get the default action back (see ChildSpawner).
    static let ignoreBrokenPipes: Void = { _ = Glibc.signal(SIGPIPE, SIG_IGN) }()

    /// Exit code, or 128+N for death by signal N; nil while it runs.
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
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw HarnessError("cannot start \(executable): \(String(cString: strerror(ENOENT)))")
        }
        let scope = ChildScope.current
        var variables = ProcessInfo.processInfo.environment
        variables.merge(extra) { _, new in new }
        variables[HarnessMarker.variable] = HarnessMarker.value(scope: scope?.id)
        let request = ChildSpawner.Request(
            executable: executable,
            arguments: arguments,
            environment: variables.map { "\($0.key)=\($0.value)" },
            outputPath: outputPath ?? "/dev/null"
        )
        switch ChildSpawner.shared.spawn(request) {
        case .success(let child):
            pid = child
        case .failure(let error):
            throw HarnessError("cannot start \(executable): \(String(cString: strerror(error.code)))")
        }
        commandLine = ([executable] + arguments).joined(separator: " ")
        scope?.adopt(self)
    }

    var isRunning: Bool {
        collect(blocking: false)
        return status.withLock { $0 == nil }
    }

    /// The exit status once it has ended (see ``waitForExit(timeout:)``), else nil.
    var exitStatus: Int32? {
        collect(blocking: false)
        return status.withLock { $0 }
    }

    /// Sends `signal` to the process itself (not its group), if it still runs.
    func signal(_ signal: Int32) {
        collect(blocking: false)
        // Under the lock: until its status is collected, the pid cannot belong to anyone else.
        status.withLock { if $0 == nil { _ = Glibc.kill(pid, signal) } }
    }

    /// Waits until it has ended, at most `timeout` (a failure bound: polls with `Task.sleep`, so the thread is free
    /// meanwhile). Returns the exit code, 128+N for death by signal N, or nil if it still runs (or the task was
    /// cancelled).
    @discardableResult
    func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while isRunning, ContinuousClock.now < deadline, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return exitStatus
    }

    /// `first` (SIGTERM), then SIGKILL to its whole group if it has not ended within `grace`; returns the exit status
    /// (nil when it had to be killed).
    @discardableResult
    func stop(signal first: Int32 = SIGTERM, grace: Duration = .seconds(10)) async -> Int32? {
        signal(first)
        if let status = await waitForExit(timeout: grace) { return status }
        kill()
        return nil
    }

    /// SIGKILL to the process and its whole group, and its status collected: gone when this returns.
    func kill() {
        collect(blocking: true)
    }

    /// Collects the exit status once the process has ended, killing what is left of its group first.
    /// - Parameter blocking: wait for the end (only after SIGKILL, so briefly).
    private func collect(blocking: Bool) {
        status.withLock { exitStatus in
            guard exitStatus == nil else { return }
            if !blocking {
                // Look without collecting: until its status is collected, its pid and group id stay reserved.
                var info = siginfo_t()
                let result = waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT)
                if result == -1 && errno == ECHILD {
                    exitStatus = -1
                    return
                }
                guard result == 0, info._sifields._sigchld.si_pid == pid else { return }
            }
            // Whatever it started in its group goes with it.
            Glibc.kill(-pid, SIGKILL)
            var raw: Int32 = 0
            var result: pid_t
            repeat {
                result = waitpid(pid, &raw, 0)
            } while result == -1 && errno == EINTR
            guard result == pid else {
                exitStatus = -1
                return
            }
            let signalNumber = raw & 0x7f
            exitStatus = signalNumber == 0 ? (raw >> 8) & 0xff : 128 + signalNumber
        }
    }

    deinit {
        if isRunning {
            kill()
        }
    }
}

/// Runs every posix_spawn of the harness on one thread that lives as long as the test process.
///
/// The parent-death signal (`setpriv --pdeathsig KILL`) fires when the thread that spawned a child ends, not the
/// process: a child spawned from a thread of the concurrency pool, which the runtime may retire when idle, would be
/// killed in the middle of its test. This thread never ends, so the signal fires only when the process does.
final class ChildSpawner: @unchecked Sendable {
    struct Request: Sendable {
        var executable: String
        var arguments: [String]
        /// `NAME=value` entries, the whole environment.
        var environment: [String]
        var outputPath: String
    }

    struct Failure: Error {
        var code: Int32
    }

    static let shared = ChildSpawner()

    /// `setpriv` sets the parent-death signal and then execs the child; absent, children are spawned directly.
    private static let setpriv = "/usr/bin/setpriv"

    private let condition = NSCondition()
    /// Guarded by `condition`.
    private var jobs: [@Sendable () -> Void] = []

    private init() {
        let thread = Thread { [self] in serve() }
        thread.name = "pinpost-test-spawner"
        thread.start()
        HarnessMarker.checkAtExit
    }

    /// Spawns on the spawner thread and returns the pid (blocks the caller for the duration of posix_spawn only).
    func spawn(_ request: Request) -> Result<pid_t, Failure> {
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<pid_t, Failure>?>(nil)
        condition.lock()
        jobs.append {
            let result = Self.posixSpawn(request)
            outcome.withLock { $0 = result }
            done.signal()
        }
        condition.signal()
        condition.unlock()
        done.wait()
        return outcome.withLock { $0! }
    }

    private func serve() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }

    private static func posixSpawn(_ request: Request) -> Result<pid_t, Failure> {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, request.outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
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
        // Its own process group (id = its pid), so the harness can end it together with what it starts.
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes,
            Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP)
        )

        let wrapped = FileManager.default.isExecutableFile(atPath: setpriv)
        let path = wrapped ? setpriv : request.executable
        let command =
            (wrapped ? [setpriv, "--pdeathsig", "KILL", "--"] : []) + [request.executable] + request.arguments
        let argv = command.map { strdup($0) } + [nil]
        defer { for item in argv { free(item) } }
        let envp = request.environment.map { strdup($0) } + [nil]
        defer { for item in envp { free(item) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, path, &actions, &attributes, argv, envp)
        return result == 0 ? .success(child) : .failure(Failure(code: result))
    }
}
