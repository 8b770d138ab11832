import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The processes one test (or one suite-wide fixture) started, checked when it ends: none may still run.
///
/// ``ChildProcess`` adopts itself into the current scope (a task-local value, so tasks a test starts count too) and
/// marks its environment with the scope's id (``HarnessMarker``), which everything it starts inherits. When the scope
/// ends, a process still running from it, or anything alive carrying its mark, outlived its test: it is reported and
/// killed. Give a suite `.childProcessesEndWithTheTest` to check each of its tests.
final class ChildScope: Sendable {
    @TaskLocal static var current: ChildScope?

    /// A process that outlived its scope (it has been killed by the time this is reported).
    struct Leftover: CustomStringConvertible, Sendable {
        var pid: pid_t
        var commandLine: String

        var description: String { "pid \(pid): \(commandLine)" }
    }

    let id: Int
    let name: String
    private let children = Mutex<[WeakChild]>([])
    private static let lastID = Atomic<Int>(0)

    init(_ name: String) {
        id = Self.lastID.add(1, ordering: .relaxed).newValue
        self.name = name
    }

    func adopt(_ child: ChildProcess) {
        children.withLock { $0.append(WeakChild(child)) }
    }

    /// Runs `body` in a new scope named `name`; afterwards, however `body` ended, every process that outlived it is a
    /// recorded issue, and is killed.
    static func checking<T>(_ name: String, _ body: () async throws -> T) async throws -> T {
        let scope = ChildScope(name)
        let result: Result<T, any Error>
        do {
            result = .success(try await $current.withValue(scope) { try await body() })
        } catch {
            result = .failure(error)
        }
        let leftovers = await scope.end()
        if !leftovers.isEmpty {
            Issue.record(
                "\(leftovers.count) process(es) started by \(name) outlived it (killed now): \(leftovers.map(\.description).joined(separator: "; "))"
            )
        }
        return try result.get()
    }

    /// Ends the scope: kills and returns what still runs of it. Processes killed a moment ago (a group's members after
    /// its leader was collected) get a few seconds to go before they count.
    func end() async -> [Leftover] {
        var leftovers: [Leftover] = []
        let adopted = children.withLock { children in
            defer { children.removeAll() }
            return children.compactMap(\.child)
        }
        for child in adopted where child.isRunning {
            leftovers.append(Leftover(pid: child.pid, commandLine: child.commandLine))
            child.kill()
        }
        let deadline = ContinuousClock.now + .seconds(5)
        var marked = HarnessMarker.processes(scope: id)
        while !marked.isEmpty && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(100))
            marked = HarnessMarker.processes(scope: id)
        }
        for process in marked {
            Glibc.kill(process.pid, SIGKILL)
            if !leftovers.contains(where: { $0.pid == process.pid }) { leftovers.append(process) }
        }
        return leftovers
    }

    private struct WeakChild: Sendable {
        weak var child: ChildProcess?
        init(_ child: ChildProcess) { self.child = child }
    }
}

/// Checks every test of a suite with its own ``ChildScope``: a process still running when the test ended fails it.
struct ChildProcessesEndWithTheTest: SuiteTrait, TestTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        try await ChildScope.checking("test \(test.name)") { try await function() }
    }
}

extension Trait where Self == ChildProcessesEndWithTheTest {
    /// Fails a test that leaves a process running (and ends that process).
    static var childProcessesEndWithTheTest: Self { Self() }
}

/// `PINPOST_TEST_HARNESS=<pid of the test process>:<scope id or ->` in the environment of every process the harness
/// starts, and so of everything those start: how the harness finds what its tests left behind, even a process that
/// left its group or was reparented to PID 1.
enum HarnessMarker {
    static let variable = "PINPOST_TEST_HARNESS"

    static func value(scope: Int?) -> String {
        "\(getpid()):\(scope.map(String.init) ?? "-")"
    }

    /// Live processes (zombies do not count) marked by this test process; in `scope` only, if given.
    static func processes(scope: Int? = nil) -> [ChildScope.Leftover] {
        let prefix = "\(variable)=\(getpid()):"
        let wanted = scope.map { Array("\(prefix)\($0)".utf8) }
        let own = getpid()
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> ChildScope.Leftover? in
            guard let pid = pid_t(entry), pid != own,
                let environment = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/environ"))
            else { return nil }
            let marked = environment.split(separator: 0).contains { variable in
                if let wanted { return Array(variable) == wanted }
                return variable.starts(with: prefix.utf8)
            }
            guard marked, isAlive(pid) else { return nil }
            let arguments = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/cmdline"))) ?? Data()
            let commandLine = arguments.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
                .joined(separator: " ")
            return ChildScope.Leftover(pid: pid, commandLine: String(commandLine.prefix(300)))
        }
    }

    /// Not a zombie (state Z) and not dead (X): from `/proc/<pid>/stat`, after the command name in parentheses.
    private static func isAlive(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let end = stat.range(of: ") ", options: .backwards)
        else { return false }
        let state = stat[end.upperBound...].prefix(1)
        return state != "Z" && state != "X"
    }

    /// The last check, when the test process exits: whatever it marked and is still alive (from a suite without
    /// `.childProcessesEndWithTheTest`, or a test that never ended) is named on standard error and killed, and the
    /// run fails. Registered with the first spawn.
    static let checkAtExit: Void = {
        atexit {
            var leftovers = HarnessMarker.processes()
            let deadline = ContinuousClock.now + .seconds(5)
            while !leftovers.isEmpty && ContinuousClock.now < deadline {
                usleep(100_000)
                leftovers = HarnessMarker.processes()
            }
            guard !leftovers.isEmpty else { return }
            for process in leftovers { kill(process.pid, SIGKILL) }
            let report =
                "error: \(leftovers.count) process(es) started by the tests outlived them (killed now): "
                + leftovers.map(\.description).joined(separator: "; ") + "\n"
            fflush(nil)
            FileHandle.standardError.write(Data(report.utf8))
            _exit(1)
        }
    }()
}
