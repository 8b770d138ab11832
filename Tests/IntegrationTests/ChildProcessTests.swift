import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The harness's promises about the processes tests start: they hold no other test's sockets, and none outlives its
/// test, whatever the outcome (README, "Two commands": `make test` leaves nothing running).
@Suite("Test harness: child processes", .childProcessesEndWithTheTest)
struct ChildProcessTests {
    /// Tests run in parallel in one process. A child one test starts must not inherit another test's sockets:
    /// the restart test's proxy closed the agent's connection, but an ejabberd or agent started meanwhile by a
    /// parallel test still held it, so the agent never saw the cut and the test failed about once in four CI runs.
    @Test func aChildDoesNotKeepAParentsConnectionOpen() throws {
        var pair: [Int32] = [-1, -1]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        defer { close(pair[1]) }
        let child = try ChildProcess("/bin/sleep", ["30"], outputPath: nil)
        defer { child.kill() }
        close(pair[0])
        // Our end is closed: the peer must read end-of-file now, not when the child exits.
        var peer = pollfd(fd: pair[1], events: Int16(POLLIN), revents: 0)
        let ready = poll(&peer, 1, 10_000)
        #expect(ready == 1, "the peer saw nothing: the child holds the closed end")
        if ready == 1 {
            var byte: UInt8 = 0
            #expect(read(pair[1], &byte, 1) == 0)
        }
    }

    @Test func aStoppedChildTakesWhatItStartedWithIt() async throws {
        let scope = ChildScope("a shell with two children")
        try await ChildScope.$current.withValue(scope) {
            let shell = try ChildProcess("/bin/sh", ["-c", "sleep 300 & sleep 300 & wait"], outputPath: nil)
            #expect(
                try await waitFor { HarnessMarker.processes(scope: scope.id).count == 3 },
                "the shell and its two sleeps carry the scope's mark: \(HarnessMarker.processes(scope: scope.id))"
            )
            // SIGTERM ends the shell, not its children: the harness ends its whole process group.
            #expect(await shell.stop() == 128 + SIGTERM)
            #expect(
                try await waitFor(timeout: .seconds(5)) { HarnessMarker.processes(scope: scope.id).isEmpty },
                "left: \(HarnessMarker.processes(scope: scope.id))"
            )
        }
        #expect(await scope.end().isEmpty)
    }

    @Test func theEndOfATestFindsAndEndsWhatOutlivedIt() async throws {
        let scope = ChildScope("a leaky test")
        let kept = try await ChildScope.$current.withValue(scope) {
            // `setsid -f` leaves a sleep in a session of its own, out of reach of the group kill: only the mark
            // in its environment still says where it came from.
            let escaping = try ChildProcess("/usr/bin/setsid", ["-f", "/bin/sleep", "300"], outputPath: nil)
            #expect(await escaping.waitForExit(timeout: .seconds(30)) == 0)
            // And a child whose owner keeps it beyond the end of its scope.
            return try ChildProcess("/bin/sleep", ["300"], outputPath: nil)
        }
        let leftovers = await scope.end()
        #expect(leftovers.count == 2, "the kept child and the escaped sleep: \(leftovers)")
        #expect(leftovers.contains { $0.pid == kept.pid }, "\(leftovers)")
        #expect(leftovers.contains { $0.commandLine == "/bin/sleep 300" && $0.pid != kept.pid }, "\(leftovers)")
        #expect(!kept.isRunning, "ended with the scope")
        #expect(
            try await waitFor(timeout: .seconds(5)) { HarnessMarker.processes(scope: scope.id).isEmpty },
            "left: \(HarnessMarker.processes(scope: scope.id))"
        )
    }

    /// The leak `make test` used to have: a test stopped its broker but never its `Subscriber`, whose `mosquitto_sub`
    /// then retried the dead port forever, after the test and after the whole run (reparented to PID 1). Here the
    /// scenario does the same and then fails with an error: nothing of it may remain.
    @Test func aFailedScenarioLeavesNothingBehind() async throws {
        let scope = ChildScope("a failed scenario")
        await #expect(throws: HarnessError.self) {
            try await ChildScope.$current.withValue(scope) {
                let folder = try Repository.temporaryFolder("harness-leak")
                let pki = try await TestPKI(in: folder)
                let broker = try await TestBroker(pki: pki)
                let subscriber = try await Subscriber(broker: broker)
                let config = try await AgentConfig(
                    deviceID: "dev-0001",
                    identity: pki.device("dev-0001"),
                    port: broker.port
                ).write(to: folder)
                let agent = try AgentProcess(configPath: config)
                #expect(try await !subscriber.wait { !$0.isEmpty }.isEmpty, "\(agent.events)")
                await broker.stop()
                throw HarnessError("the scenario fails with its subscriber and agent still running")
            }
        }
        let leftovers = await scope.end()
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    /// The parent-death signal: children die with the test process even when it crashes or is killed.
    @Test func aChildDiesWithTheTestProcess() async throws {
        let folder = try Repository.temporaryFolder("harness-pdeathsig")
        let output = folder.appendingPathComponent("dump").path
        // The harness runs `setpriv --pdeathsig KILL -- <command>`; this command dumps what it inherited.
        let child = try ChildProcess("/usr/bin/setpriv", ["--dump"], outputPath: output)
        #expect(await child.waitForExit(timeout: .seconds(30)) == 0)
        let dump = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        #expect(dump.contains("Parent death signal: KILL"), "\(dump)")
    }
}
