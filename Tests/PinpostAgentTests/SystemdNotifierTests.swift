import Foundation
import PinpostAgent
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The sd_notify datagram protocol against real AF_UNIX datagram sockets, as systemd would receive it.
@Suite("sd_notify without libsystemd")
struct SystemdNotifierTests {
    /// A bound SOCK_DGRAM receiver: a path socket or an abstract one.
    final class Receiver {
        let fd: Int32
        let path: String?

        init(path: String?, abstractName: String?) throws {
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            self.path = path
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let name = Array((path ?? abstractName!).utf8)
            let start = path == nil ? 1 : 0
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (index, byte) in name.enumerated() { raw[start + index] = byte }
            }
            let length = socklen_t(
                MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + start + name.count + (path == nil ? 0 : 1)
            )
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
            }
            guard bound == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno)!) }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        func receive() -> String? {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count >= 0 else { return nil }
            return String(decoding: buffer[0..<count], as: UTF8.self)
        }

        deinit {
            close(fd)
            if let path { unlink(path) }
        }
    }

    @Test func sendsReadyAndStatusToAPathSocket() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "notify-\(UUID().uuidString.prefix(8))"
        ).path
        let receiver = try Receiver(path: path, abstractName: nil)
        let notifier = try #require(SystemdNotifier.fromEnvironment(["NOTIFY_SOCKET": path]))
        #expect(notifier.address == .path(path))
        try notifier.send(.ready, .status("connected to\nbroker"))
        #expect(receiver.receive() == "READY=1\nSTATUS=connected to broker")
    }

    @Test func sendsToAnAbstractSocketNamedWithAt() throws {
        let name = "pinpost-test-\(UUID().uuidString.prefix(8))"
        let receiver = try Receiver(path: nil, abstractName: name)
        let notifier = try #require(SystemdNotifier.fromEnvironment(["NOTIFY_SOCKET": "@" + name]))
        #expect(notifier.address == .abstract(name))
        try notifier.send(.watchdog)
        #expect(receiver.receive() == "WATCHDOG=1")
        try notifier.send(.stopping)
        #expect(receiver.receive() == "STOPPING=1")
    }

    @Test func noSocketMeansNoNotifier() {
        #expect(SystemdNotifier.fromEnvironment([:]) == nil)
        #expect(SystemdNotifier.fromEnvironment(["NOTIFY_SOCKET": ""]) == nil)
        #expect(SystemdNotifier.fromEnvironment(["NOTIFY_SOCKET": "relative/path"]) == nil)
        #expect(SystemdNotifier.fromEnvironment(["NOTIFY_SOCKET": "/" + String(repeating: "x", count: 200)]) == nil)
    }

    @Test func aMissingSocketIsAnErrorNotACrash() {
        let notifier = SystemdNotifier(address: .path("/nonexistent/pinpost-notify"))
        #expect(throws: SystemdNotifier.Failure.self) { try notifier.send(.ready) }
    }

    @Test func watchdogIntervalFollowsWatchdogUsecAndPid() {
        let pid: Int32 = 4242
        #expect(
            SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "30000000"], processID: pid) == .seconds(30)
        )
        #expect(
            SystemdNotifier.pingInterval(
                environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "4242"],
                processID: pid
            ) == .seconds(15)
        )
        // Meant for another process (e.g. inherited by a child): not ours to ping.
        #expect(
            SystemdNotifier.watchdogInterval(
                environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"],
                processID: pid
            ) == nil
        )
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "0"], processID: pid) == nil)
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "soon"], processID: pid) == nil)
        #expect(SystemdNotifier.watchdogInterval(environment: [:], processID: pid) == nil)
    }

    @Test func linesAreTheProtocolKeys() {
        #expect(SystemdNotifier.State.ready.line == "READY=1")
        #expect(SystemdNotifier.State.stopping.line == "STOPPING=1")
        #expect(SystemdNotifier.State.watchdog.line == "WATCHDOG=1")
        #expect(SystemdNotifier.State.mainPID(7).line == "MAINPID=7")
    }
}
