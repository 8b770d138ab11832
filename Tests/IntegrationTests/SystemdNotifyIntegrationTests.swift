import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `Type=notify` as systemd sees it: a datagram socket in $NOTIFY_SOCKET receives READY=1 once the
/// agent has started (before it waits for the clock or the broker, so a board without time finishes booting),
/// STATUS=connected once it is, WATCHDOG=1 pings at half of $WATCHDOG_USEC, and STOPPING=1 on SIGTERM.
@Suite("systemd notifications from the running agent", .timeLimit(.minutes(2)), .childProcessesEndWithTheTest)
struct SystemdNotifyIntegrationTests {
    @Test func readyWatchdogAndStopping() async throws {
        let folder = try Repository.temporaryFolder("notify")
        let socketPath = folder.appendingPathComponent("notify.sock").path
        let socket = try NotifySocket(path: socketPath)

        let pki = try await TestPKI(in: folder)
        let broker = try await TestBroker(pki: pki)
        let config = try await AgentConfig(deviceID: "dev-0001", identity: pki.device("dev-0001"), port: broker.port)
            .write(to: folder)
        let agent = try AgentProcess(
            configPath: config,
            environment: ["NOTIFY_SOCKET": socketPath, "WATCHDOG_USEC": "1000000"]
        )

        var received: [NotifySocket.Message] = []
        func pings() -> [NotifySocket.Message] { received.filter { $0.text.contains("WATCHDOG=1") } }
        #expect(
            try await waitFor {
                received += socket.receive()
                return received.contains { $0.text.contains("READY=1") } && pings().count >= 3
            },
            "READY=1 and watchdog pings: \(received.map(\.text))\n\(agent.log)"
        )
        #expect(
            try await waitFor {
                received += socket.receive()
                return received.contains { $0.text.contains("STATUS=connected to localhost") }
            },
            "\(received.map(\.text))"
        )
        let ready = received.firstIndex { $0.text.contains("READY=1") }
        let connected = received.firstIndex { $0.text.contains("STATUS=connected to localhost") }
        #expect(ready != nil && connected != nil && ready! < connected!, "READY=1 comes at start-up, before CONNACK")
        // WATCHDOG_USEC=1s: a ping every 0.5 s, so three within 3 s at most. Timed by the kernel as the agent sent
        // them (SO_TIMESTAMPNS), so neither the agent's start-up nor this test's wake-ups count.
        let firstThree = pings().prefix(3).map(\.sentAt)
        let span = (firstThree.last ?? 0) - (firstThree.first ?? 0)
        #expect(firstThree.count == 3 && span < 3, "three pings within \(span) s: \(pings().map(\.sentAt))")

        agent.child.signal(SIGTERM)
        #expect(
            try await waitFor {
                received += socket.receive()
                return received.contains { $0.text.contains("STOPPING=1") }
            },
            "\(received.map(\.text))"
        )
        #expect(await agent.child.waitForExit(timeout: .seconds(30)) == 0)
        await broker.stop()
    }
}

/// A bound `AF_UNIX` datagram socket, as systemd's notify socket; each message carries the kernel's time of sending.
private final class NotifySocket {
    struct Message {
        var text: String
        /// Seconds since the epoch, when the sender sent it (SO_TIMESTAMPNS on an AF_UNIX socket stamps at send).
        var sentAt: Double
    }

    /// SO_TIMESTAMPNS (and its control message type) on 64-bit Linux, from asm-generic/socket.h: the C macro picks
    /// between old and new forms, which Swift cannot import.
    private static let timestampNanoseconds: Int32 = 35
    private let fd: Int32

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            path.utf8CString.withUnsafeBytes {
                raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0.prefix(raw.count)))
            }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        var on: Int32 = 1
        let stamped = setsockopt(
            fd,
            SOL_SOCKET,
            Self.timestampNanoseconds,
            &on,
            socklen_t(MemoryLayout<Int32>.size)
        )
        guard bound == 0, stamped == 0 else {
            close(fd)
            throw HarnessError("cannot bind a notify socket at \(path)")
        }
    }

    /// Every message waiting now (does not block).
    func receive() -> [Message] {
        var messages: [Message] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var control = [UInt8](repeating: 0, count: 128)
        while true {
            let (count, sentAt) = buffer.withUnsafeMutableBytes { data in
                control.withUnsafeMutableBytes { controlBytes -> (Int, Double) in
                    var vector = iovec(iov_base: data.baseAddress, iov_len: data.count)
                    return withUnsafeMutablePointer(to: &vector) { vectorPointer -> (Int, Double) in
                        var header = msghdr()
                        header.msg_iov = vectorPointer
                        header.msg_iovlen = 1
                        header.msg_control = controlBytes.baseAddress
                        header.msg_controllen = controlBytes.count
                        let count = recvmsg(fd, &header, Int32(MSG_DONTWAIT))
                        return (count, Self.timestamp(controlBytes, length: header.msg_controllen))
                    }
                }
            }
            guard count > 0 else { return messages }
            messages.append(Message(text: String(decoding: buffer[0..<count], as: UTF8.self), sentAt: sentAt))
        }
    }

    /// The SO_TIMESTAMPNS control message's time: a `cmsghdr`, then a `timespec` at the next 8-byte boundary.
    private static func timestamp(_ control: UnsafeMutableRawBufferPointer, length: Int) -> Double {
        let headerSize = MemoryLayout<cmsghdr>.size
        let dataOffset = (headerSize + 7) & ~7
        guard length >= dataOffset + MemoryLayout<timespec>.size else { return 0 }
        let header = control.loadUnaligned(as: cmsghdr.self)
        guard header.cmsg_level == SOL_SOCKET, header.cmsg_type == timestampNanoseconds else { return 0 }
        let time = control.loadUnaligned(fromByteOffset: dataOffset, as: timespec.self)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    deinit {
        close(fd)
    }
}
