internal import CPinpostLinux
internal import Glibc
public import SystemPackage

/// An AF_UNIX socket that owns its descriptor: a client (``connected(to:kind:)``), a datagram sender
/// (``unbound(kind:)`` and ``send(_:to:)``), or a server (``bound(to:kind:)``: a datagram receiver, or a stream
/// listener that ``accept()``s). Close-on-exec always; sends never raise SIGPIPE.
public final class UnixSocket: Sendable {
    public enum Kind: Sendable {
        /// SOCK_STREAM: a connection carrying bytes (the simulator's control socket).
        case stream
        /// SOCK_DGRAM: single messages (sd_notify).
        case datagram
    }

    public let descriptor: FileDescriptor
    public let kind: Kind

    private init(descriptor: FileDescriptor, kind: Kind) {
        self.descriptor = descriptor
        self.kind = kind
    }

    deinit {
        try? descriptor.close()
    }

    /// A socket not bound to any name, for sending datagrams with ``send(_:to:)``.
    public static func unbound(kind: Kind) throws(SystemError) -> UnixSocket {
        let raw = try SystemCall.retrying { socket(AF_UNIX, kind.type | Int32(SOCK_CLOEXEC.rawValue), 0) }
            .orThrow("cannot create a unix socket")
        return UnixSocket(descriptor: FileDescriptor(rawValue: raw), kind: kind)
    }

    /// A socket connected to `address`.
    public static func connected(to address: UnixSocketAddress, kind: Kind) throws(SystemError) -> UnixSocket {
        let socket = try unbound(kind: kind)
        let result = address.withSocketAddress { pointer, length in
            SystemCall.retrying { connect(socket.descriptor.rawValue, pointer, length) }
        }
        switch result {
        case .success, .failure(.socketIsConnected):  // EISCONN: an interrupted connect completed meanwhile
            return socket
        case .failure(let code):
            throw SystemError(code, "cannot connect to", path: address.description)
        }
    }

    /// A socket bound to `address`: a datagram receiver, or a listening stream socket. A path socket's file is
    /// created by the bind; remove it when done (``FileSystem/remove(_:)``).
    public static func bound(
        to address: UnixSocketAddress,
        kind: Kind,
        backlog: Int32 = 16
    ) throws(SystemError) -> UnixSocket {
        let socket = try unbound(kind: kind)
        try address.withSocketAddress { pointer, length in
            SystemCall.retryingVoid { bind(socket.descriptor.rawValue, pointer, length) }
        }.orThrow("cannot bind", path: address.description)
        if kind == .stream {
            try SystemCall.retryingVoid { listen(socket.descriptor.rawValue, backlog) }
                .orThrow("cannot listen on", path: address.description)
        }
        return socket
    }

    /// The next connection to a listening stream socket.
    public func accept() throws(SystemError) -> UnixSocket {
        let raw = try SystemCall.retrying { CPinpostLinux_accept_cloexec(descriptor.rawValue) }
            .orThrow("cannot accept a connection")
        return UnixSocket(descriptor: FileDescriptor(rawValue: raw), kind: .stream)
    }

    /// Sends one datagram to `address`, whole or not at all.
    public func send(_ bytes: [UInt8], to address: UnixSocketAddress) throws(SystemError) {
        let sent = address.withSocketAddress { pointer, length in
            bytes.withUnsafeBytes { buffer in
                SystemCall.retrying {
                    sendto(descriptor.rawValue, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), pointer, length)
                }
            }
        }
        let count = try sent.orThrow("cannot send to", path: address.description)
        guard count == bytes.count else {
            throw SystemError(.messageTooLong, "cannot send the whole message to", path: address.description)
        }
    }

    /// Writes all bytes to a connected stream socket (short writes are continued).
    public func writeAll(_ bytes: [UInt8]) throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            let written = try bytes.withUnsafeBytes { buffer in
                SystemCall.retrying {
                    Glibc.send(
                        descriptor.rawValue,
                        buffer.baseAddress! + offset,
                        buffer.count - offset,
                        Int32(MSG_NOSIGNAL)
                    )
                }
            }.orThrow("cannot write to a unix socket")
            offset += written
        }
    }

    /// The next bytes (at most `maximumCount`; one whole datagram for a datagram socket). Empty at the end of a
    /// stream. Nil when `timeout` passes first (nil: wait as long as it takes).
    public func receive(maximumCount: Int = 64 * 1024, timeout: Duration? = nil) throws(SystemError) -> [UInt8]? {
        if let timeout {
            let ready: [Bool]
            do throws(Errno) {
                ready = try Poll.waitForInput(on: [descriptor], timeout: timeout)
            } catch {
                throw SystemError(error, "cannot wait on a unix socket")
            }
            guard ready[0] else { return nil }
        }
        var buffer = [UInt8](repeating: 0, count: maximumCount)
        let count = try buffer.withUnsafeMutableBytes { raw in
            SystemCall.retrying { recv(descriptor.rawValue, raw.baseAddress, raw.count, 0) }
        }.orThrow("cannot receive from a unix socket")
        return Array(buffer[0..<count])
    }
}

extension UnixSocket.Kind {
    fileprivate var type: Int32 {
        switch self {
        case .stream: Int32(SOCK_STREAM.rawValue)
        case .datagram: Int32(SOCK_DGRAM.rawValue)
        }
    }
}

extension UnixSocketAddress {
    /// Calls `body` with a `sockaddr_un` for this address and its length: a path with its NUL, an abstract name
    /// exactly as long as given (a leading NUL, no terminating one). A name too long gives ENAMETOOLONG.
    fileprivate func withSocketAddress<Result>(
        _ body: (UnsafePointer<sockaddr>, socklen_t) -> Swift.Result<Result, Errno>
    ) -> Swift.Result<Result, Errno> {
        var storage = sockaddr_un()
        storage.sun_family = sa_family_t(AF_UNIX)
        let (name, start, terminator): ([UInt8], Int, Int)
        switch self {
        case .path(let path): (name, start, terminator) = (Array(path.utf8), 0, 1)
        case .abstract(let abstractName): (name, start, terminator) = (Array(abstractName.utf8), 1, 0)
        }
        let capacity = MemoryLayout.size(ofValue: storage.sun_path)
        guard start + name.count + terminator <= capacity else { return .failure(.fileNameTooLong) }
        withUnsafeMutableBytes(of: &storage.sun_path) { path in
            for (index, byte) in name.enumerated() { path[start + index] = byte }
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path) ?? 2
        let length = socklen_t(pathOffset + start + name.count + terminator)
        return withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}
