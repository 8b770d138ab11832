import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The clock gate with the real binary. Rather than faking the clock (libfaketime loses a Swift
/// program's arguments), the floor is raised above it: a device certificate valid only from
/// tomorrow makes today's clock impossible, which is the same condition as a board back in 1970.
@Suite("Clock gate against a real broker", .serialized, .timeLimit(.minutes(2)))
struct ClockGateIntegrationTests {
    func setUp(_ name: String) throws -> (folder: URL, broker: TestBroker, config: String) {
        let folder = try Repository.temporaryFolder(name)
        let pki = try TestPKI(in: folder)
        let broker = try TestBroker(pki: pki)
        let device = try pki.device("dev-0001", extra: ["--not-before", "+1 day", "--days", "30"])
        // require_sync = false
        let config = try AgentConfig(deviceID: "dev-0001", identity: device, port: broker.port).write(to: folder)
        return (folder, broker, config)
    }

    @Test func aClockBelowTheFloorMeansNoConnectionWhateverRequireSyncSays() throws {
        let (_, broker, config) = try setUp("floor")
        defer { broker.stop() }
        let agent = try AgentProcess(configPath: config)
        #expect(waitFor(timeout: .seconds(10)) { agent.log.contains("not connecting") }, "\(agent.log)")
        Thread.sleep(forTimeInterval: 2)
        let log = agent.log
        #expect(log.contains("cannot be right: the newest certificate in use is valid only from"), "\(log)")
        #expect(!log.contains("TLS established"))
        let brokerLog = broker.log
        #expect(!brokerLog.contains("New connection from"), "no TCP connection reached the broker: \(brokerLog)")
        // Readings are still taken and kept for later.
        #expect(log.contains("reading"), "\(log)")
        // SIGTERM ends the wait for the clock promptly.
        let start = ContinuousClock.now
        #expect(agent.stop(timeout: .seconds(10)) == 0, "\(agent.log)")
        #expect(ContinuousClock.now - start < .seconds(8))
    }

    @Test func checkReportsTheFloor() throws {
        let (folder, broker, config) = try setUp("floor-check")
        defer { broker.stop() }
        let output = folder.appendingPathComponent("check.out").path
        let child = try ChildProcess(try Repository.agentBinary, ["check", "--config", config], outputPath: output)
        let status = child.wait(timeout: .seconds(30))
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        #expect(status == 1, "\(text)")
        #expect(text.contains("FAIL clock: the wall clock reads"), "\(text)")
        #expect(
            text.contains("PASS certificates"),
            "validity is judged at the floor, so the certificate itself is fine: \(text)"
        )
    }
}
