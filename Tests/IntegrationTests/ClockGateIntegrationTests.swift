import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The clock gate with the real binary. Rather than faking the clock (libfaketime loses a Swift
/// program's arguments), the floor is raised above it: a device certificate valid only from
/// tomorrow makes today's clock impossible, which is the same condition as a board back in 1970.
@Suite("Clock gate against a real broker", .serialized, .timeLimit(.minutes(2)), .childProcessesEndWithTheTest)
struct ClockGateIntegrationTests {
    func setUp(_ name: String) async throws -> (folder: URL, broker: TestBroker, config: String) {
        let folder = try Repository.temporaryFolder(name)
        let pki = try await TestPKI(in: folder)
        let broker = try await TestBroker(pki: pki)
        let device = try await pki.device("dev-0001", extra: ["--not-before", "+1 day", "--days", "30"])
        // require_sync = false
        let config = try AgentConfig(deviceID: "dev-0001", identity: device, port: broker.port).write(to: folder)
        return (folder, broker, config)
    }

    @Test func aClockBelowTheFloorMeansNoConnectionWhateverRequireSyncSays() async throws {
        let (_, broker, config) = try await setUp("floor")
        let agent = try AgentProcess(configPath: config)
        #expect(try await waitFor { agent.log.contains("not connecting") }, "\(agent.log)")
        // The gate stays shut while the agent goes on working: 20 more readings (2 s of the agent's own time at
        // one per 100 ms) after it decided not to connect, readings that are taken and kept for later.
        let decided = agent.newestSeq
        #expect(try await waitFor { agent.newestSeq >= decided + 20 }, "\(agent.events)")
        // SIGTERM ends the wait for the clock promptly.
        let start = ContinuousClock.now
        #expect(await agent.stop(timeout: .seconds(10)) == 0, "\(agent.log)")
        #expect(ContinuousClock.now - start < .seconds(8))
        // Over the agent's whole life, start to exit: no TLS, and no TCP connection reached the broker (looked at
        // once the broker has read every closed connection to its end, so one it has not logged yet cannot hide).
        let log = agent.log
        #expect(log.contains("cannot be right: the newest certificate in use is valid only from"), "\(log)")
        #expect(!log.contains("TLS established"))
        #expect(try await broker.waitUntilClosedConnectionsAreRead(), "the broker read every closed connection")
        let brokerLog = broker.log
        #expect(!brokerLog.contains("New connection from"), "no TCP connection reached the broker: \(brokerLog)")
        await broker.stop()
    }

    @Test func checkReportsTheFloor() async throws {
        let (folder, broker, config) = try await setUp("floor-check")
        let output = folder.appendingPathComponent("check.out").path
        let child = try ChildProcess(try Repository.agentBinary, ["check", "--config", config], outputPath: output)
        let status = await child.waitForExit(timeout: .seconds(30))
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        #expect(status == 1, "\(text)")
        #expect(text.contains("FAIL clock: the wall clock reads"), "\(text)")
        #expect(
            text.contains("PASS certificates"),
            "validity is judged at the floor, so the certificate itself is fine: \(text)"
        )
        await broker.stop()
    }
}
