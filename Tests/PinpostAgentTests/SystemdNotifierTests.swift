import Foundation
import PinpostAgent
import SystemExtras
import SystemPackage
import Testing

/// The sd_notify datagram protocol against real AF_UNIX datagram sockets, as systemd would receive it.
@Suite("sd_notify without libsystemd")
struct SystemdNotifierTests {
    /// A bound SOCK_DGRAM receiver, as systemd has: a path socket or an abstract one.
    final class Receiver {
        let socket: UnixSocket
        let path: String?

        init(path: String?, abstractName: String?) throws {
            self.path = path
            socket = try UnixSocket.bound(to: path.map { .path($0) } ?? .abstract(abstractName!), kind: .datagram)
        }

        func receive() -> String? {
            guard let message = try? socket.receive(timeout: .seconds(5)) else { return nil }
            return String(decoding: message, as: UTF8.self)
        }

        deinit {
            if let path { FileSystem.remove(path) }
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
        #expect {
            try notifier.send(.ready)
        } throws: { error in
            guard let failure = error as? SystemdNotifier.Failure else { return false }
            return failure.code == .noSuchFileOrDirectory && failure.description.contains("/nonexistent/pinpost-notify")
        }
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
