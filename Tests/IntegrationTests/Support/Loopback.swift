import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Socket helpers for test servers on 127.0.0.1.
enum Loopback {
    static func address(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// A port the kernel just handed out for loopback; the server binds it right after.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket() failed") }
        defer { close(fd) }
        var address = address(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw HarnessError("bind() failed") }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw HarnessError("getsockname() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = address(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        } == 0
    }

    /// Waits until every port accepts connections; false if `process` exits first or `timeout` (a failure bound for
    /// a loaded machine) passes.
    static func waitForListeners(
        _ ports: [Int],
        process: ChildProcess,
        timeout: Duration = .seconds(30)
    ) async throws -> Bool {
        var pending = Set(ports)
        try await waitFor(timeout: timeout) {
            guard process.isRunning else { return true }  // it exited: no use waiting
            pending = pending.filter { !canConnect(port: $0) }
            return pending.isEmpty
        }
        return process.isRunning && pending.isEmpty
    }

    /// Waits until the server on `port` has read every connection its clients closed to the end: none of that
    /// port's sockets is left in CLOSE_WAIT (peer closed, server not done reading), accepted or still queued.
    ///
    /// A positive condition for "nothing reached the server": once a client has exited and this holds, the server
    /// has seen every byte the client sent, and logged whatever it makes of them.
    static func waitUntilClosedConnectionsAreRead(port: Int, timeout: Duration = .seconds(30)) async throws -> Bool {
        try await waitFor(timeout: timeout) { !hasUnreadClosedConnection(port: port) }
    }

    /// From /proc/net/tcp and tcp6: a socket with local port `port` in state 08 (CLOSE_WAIT).
    private static func hasUnreadClosedConnection(port: Int) -> Bool {
        let suffix = ":" + String(format: "%04X", port)
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            let text = (try? String(contentsOfFile: table, encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                guard fields.count > 3 else { continue }
                if fields[1].hasSuffix(suffix) && fields[3] == "08" { return true }
            }
        }
        return false
    }
}
