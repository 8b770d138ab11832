import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP proxy the test controls, standing in for the network between agent and broker.
///
/// `.forward` passes bytes; `.blackHole` accepts and reads but delivers nothing (a cable pulled
/// somewhere upstream: no RST, no FIN); `.refuse` closes new connections at once; `.hold` leaves the
/// client's bytes unread in the socket buffers (they reach the upstream only if forwarding resumes) while
/// the upstream's bytes still reach the client, and new connections are handled as in `.forward`.
final class TCPProxy: @unchecked Sendable {
    enum Mode: Sendable { case forward, blackHole, refuse, hold }

    let port: Int
    private let upstreamPort: Int
    private let listener: Int32
    private let state = Mutex<(mode: Mode, stopped: Bool, accepted: Int, cut: Int)>((.forward, false, 0, 0))

    init(upstreamPort: Int) throws {
        self.upstreamPort = upstreamPort
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = Loopback.address(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { throw HarnessError("proxy cannot listen") }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    var mode: Mode {
        get { state.withLock { $0.mode } }
        set { state.withLock { $0.mode = newValue } }
    }

    /// Connections accepted so far (each is one connection attempt by the agent).
    var acceptedConnections: Int { state.withLock { $0.accepted } }

    /// Resets every open connection, as a network cut that the peers notice would.
    func cutAll() {
        state.withLock { $0.cut += 1 }
    }

    func stop() {
        state.withLock { $0.stopped = true }
    }

    deinit {
        stop()
        close(listener)
    }

    private var stopped: Bool { state.withLock { $0.stopped } }

    private func acceptLoop() {
        while !stopped {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            // Close-on-exec, so no process started meanwhile can keep this connection open after a cut.
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            let (mode, generation) = state.withLock { state -> (Mode, Int) in
                state.accepted += 1
                return (state.mode, state.cut)
            }
            if mode == .refuse {
                close(client)
                continue
            }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var address = Loopback.address(port: upstreamPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard connected == 0 else {
                close(client)
                close(upstream)
                continue
            }
            Thread { [self] in pump(client, upstream, generation: generation) }.start()
        }
    }

    private func pump(_ client: Int32, _ upstream: Int32, generation: Int) {
        defer {
            close(client)
            close(upstream)
        }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var fds = [
            pollfd(fd: client, events: Int16(POLLIN), revents: 0),
            pollfd(fd: upstream, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            let (mode, stopped, cut) = state.withLock { ($0.mode, $0.stopped, $0.cut) }
            if stopped || cut != generation {
                // Reset rather than close politely.
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                return
            }
            fds[0].revents = 0
            fds[1].revents = 0
            // Held: the client's side is not polled, so its bytes stay where they are.
            fds[0].events = mode == .hold ? 0 : Int16(POLLIN)
            guard poll(&fds, 2, 100) >= 0 else { return }
            for (index, entry) in fds.enumerated() where entry.revents != 0 {
                // Held, only a hang-up or an error shows on the client's side: it went away.
                if index == 0 && mode == .hold { return }
                let from = entry.fd
                let to = index == 0 ? upstream : client
                let count = buffer.withUnsafeMutableBytes { read(from, $0.baseAddress, $0.count) }
                if count <= 0 { return }
                if mode == .blackHole { continue }
                var offset = 0
                while offset < count {
                    let written = buffer.withUnsafeBytes {
                        send(to, $0.baseAddress! + offset, count - offset, Int32(MSG_NOSIGNAL))
                    }
                    if written <= 0 { return }
                    offset += written
                }
            }
        }
    }
}
