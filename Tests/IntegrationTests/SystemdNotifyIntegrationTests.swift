import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `Type=notify` as systemd sees it: a datagram socket in $NOTIFY_SOCKET receives READY=1 once the
/// agent is connected, WATCHDOG=1 pings at half of $WATCHDOG_USEC, and STOPPING=1 on SIGTERM.
@Suite("systemd notifications from the running agent", .timeLimit(.minutes(2)))
struct SystemdNotifyIntegrationTests {
    @Test func readyWatchdogAndStopping() throws {
        let folder = try Repository.temporaryFolder("notify")
        let socketPath = folder.appendingPathComponent("notify.sock").path
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            socketPath.utf8CString.withUnsafeBytes {
                raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0.prefix(raw.count)))
            }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try #require(bound == 0)

        let pki = try TestPKI(in: folder)
        let broker = try TestBroker(pki: pki)
        defer { broker.stop() }
        let config = try AgentConfig(deviceID: "dev-0001", identity: pki.device("dev-0001"), port: broker.port).write(
            to: folder
        )
        let agent = try AgentProcess(
            configPath: config,
            environment: ["NOTIFY_SOCKET": socketPath, "WATCHDOG_USEC": "1000000"]
        )

        var received: [String] = []
        func collect(for duration: Duration) {
            let deadline = ContinuousClock.now + duration
            var buffer = [UInt8](repeating: 0, count: 4096)
            while ContinuousClock.now < deadline {
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, 50) > 0 else { continue }
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count > 0 { received.append(String(decoding: buffer[0..<count], as: UTF8.self)) }
            }
        }
        collect(for: .seconds(3))
        let ready = received.firstIndex { $0.contains("READY=1") }
        #expect(ready != nil, "READY=1 after CONNACK: \(received)\n\(agent.log)")
        #expect(received.contains { $0.contains("STATUS=connected to localhost") }, "\(received)")
        let pings = received.filter { $0.contains("WATCHDOG=1") }.count
        #expect(pings >= 3, "WATCHDOG_USEC=1s: a ping at least every 0.5 s; saw \(pings) in 3 s")

        kill(agent.child.pid, SIGTERM)
        collect(for: .seconds(2))
        #expect(received.contains { $0.contains("STOPPING=1") }, "\(received)")
        #expect(agent.child.wait(timeout: .seconds(10)) == 0)
    }
}
