import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP proxy the test controls, standing in for the network between agent and broker.
///
/// `.forward` passes bytes; `.blackHole` accepts and reads but delivers nothing (a cable pulled
/// somewhere upstream: no RST, no FIN, not even when the upstream closes meanwhile); `.refuse` closes
/// new connections at once; `.hold` leaves the client's bytes unread in the socket buffers (they reach
/// the upstream only if forwarding resumes) while the upstream's bytes still reach the client, and new
/// connections are handled as in `.forward`.
///
/// ``set(_:)`` and ``cutAll()`` return once every open connection has taken the change up, so what a test does
/// next happens under the new mode.
final class TCPProxy: Sendable {
    enum Mode: Sendable { case forward, blackHole, refuse, hold }

    let port: Int
    private let core: Core

    init(upstreamPort: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = Loopback.address(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw HarnessError("proxy cannot listen")
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        core = Core(listener: fd, upstreamPort: upstreamPort)
        // The threads hold the core, not the proxy: a proxy a test drops is stopped by its deinit.
        let core = self.core
        Thread { core.acceptLoop() }.start()
    }

    var mode: Mode { core.state.withLock { $0.mode } }

    /// Switches the mode; returns once every open connection works under it (each looks at least every 100 ms).
    func set(_ mode: Mode) async throws {
        let generation = core.state.withLock { state -> Int in
            state.mode = mode
            state.generation += 1
            return state.generation
        }
        try await core.untilEveryPumpSaw(generation)
    }

    /// Connections accepted so far (each is one connection attempt by the agent).
    var acceptedConnections: Int { core.state.withLock { $0.accepted } }

    /// Resets every open connection, as a network cut that the peers notice would; returns once they are reset.
    func cutAll() async throws {
        let generation = core.state.withLock { state -> Int in
            state.cut = state.generation + 1
            state.generation += 1
            return state.generation
        }
        try await core.untilEveryPumpSaw(generation)
    }

    func stop() {
        core.stop()
    }

    deinit {
        stop()
    }

    /// The listener, the mode and the threads' bookkeeping, shared by the proxy's threads.
    private final class Core: Sendable {
        struct State {
            var mode = Mode.forward
            var stopped = false
            var accepted = 0
            /// Counts changes of mode and cuts; a connection opened at or before `cut` is reset.
            var generation = 0
            var cut = 0
            /// Open connections (by number) and the newest generation each has taken up.
            var pumps: [Int: Int] = [:]
            var nextPump = 0
        }

        let state = Mutex(State())
        private let listener: Int32
        private let upstreamPort: Int

        init(listener: Int32, upstreamPort: Int) {
            self.listener = listener
            self.upstreamPort = upstreamPort
        }

        /// The accept loop ends within 100 ms and closes the listener; open connections are reset.
        func stop() {
            state.withLock { $0.stopped = true }
        }

        /// Waits until every open connection has taken up `generation` (or closed).
        func untilEveryPumpSaw(_ generation: Int) async throws {
            let done = try await waitFor(timeout: .seconds(10), every: .milliseconds(10)) {
                state.withLock { $0.pumps.values.allSatisfy { $0 >= generation } }
            }
            if !done { throw HarnessError("a proxy connection did not take up the change within 10 s") }
        }

        func acceptLoop() {
            // Closed here, by its only user, so no other socket can take its descriptor number while it is polled.
            defer { close(listener) }
            while !state.withLock({ $0.stopped }) {
                var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, 100) > 0 else { continue }
                let client = accept(listener, nil, nil)
                guard client >= 0 else { continue }
                // Close-on-exec, so no process started meanwhile can keep this connection open after a cut.
                _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                let (mode, generation) = state.withLock { state -> (Mode, Int) in
                    state.accepted += 1
                    return (state.mode, state.generation)
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
                let number = state.withLock { state -> Int in
                    state.nextPump += 1
                    state.pumps[state.nextPump] = generation
                    return state.nextPump
                }
                Thread { [self] in pump(client, upstream, number: number, openedAt: generation) }.start()
            }
        }

        private func pump(_ client: Int32, _ upstream: Int32, number: Int, openedAt: Int) {
            defer {
                close(client)
                close(upstream)
                state.withLock { _ = $0.pumps.removeValue(forKey: number) }
            }
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            var fds = [
                pollfd(fd: client, events: Int16(POLLIN), revents: 0),
                pollfd(fd: upstream, events: Int16(POLLIN), revents: 0),
            ]
            // The upstream may end while the hole swallows everything (the broker's keep-alive gives up on a client
            // it no longer hears): the client must not learn of it, as no FIN crosses a pulled cable.
            var upstreamGone = false
            while true {
                // Taken up here: the rest of this round works under this mode.
                let (mode, stopped, cut) = state.withLock { state -> (Mode, Bool, Int) in
                    state.pumps[number] = state.generation
                    return (state.mode, state.stopped, state.cut)
                }
                if stopped || cut > openedAt {
                    // Reset rather than close politely.
                    var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                    setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                    return
                }
                fds[0].revents = 0
                fds[1].revents = 0
                // Held: the client's side is not polled, so its bytes stay where they are.
                fds[0].events = mode == .hold ? 0 : Int16(POLLIN)
                if upstreamGone {
                    // Out of the black hole, the end it hid reaches the client after all.
                    guard mode == .blackHole else { return }
                    fds[1].fd = -1  // no longer polled (a hang-up shows even with no events asked for)
                }
                guard poll(&fds, 2, 100) >= 0 else { return }
                for (index, entry) in fds.enumerated() where entry.revents != 0 {
                    // Held, only a hang-up or an error shows on the client's side: it went away.
                    if index == 0 && mode == .hold { return }
                    let from = entry.fd
                    let to = index == 0 ? upstream : client
                    let count = buffer.withUnsafeMutableBytes { read(from, $0.baseAddress, $0.count) }
                    if count <= 0 && index == 1 && mode == .blackHole {
                        upstreamGone = true
                        continue
                    }
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
}
