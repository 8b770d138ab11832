public import SystemExtras
public import SystemPackage

/// Tells systemd about the agent's state through the `sd_notify` datagram protocol, without libsystemd.
///
/// `pinpost.service` is `Type=notify`: systemd considers the unit started only when the agent sends
/// `READY=1` (after its first CONNACK), and with `WatchdogSec=` it restarts an agent that stops sending
/// `WATCHDOG=1`. The protocol is one `AF_UNIX`/`SOCK_DGRAM` datagram of newline-separated
/// `KEY=VALUE` lines to the socket named in `$NOTIFY_SOCKET` (a path, or an abstract name written
/// `@name`). Doing it by hand keeps libsystemd out of the static binary and off non-systemd boards.
///
/// Outside systemd (`$NOTIFY_SOCKET` unset) ``fromEnvironment(_:)`` returns nil, so callers write
/// `notifier?.send(.ready)` and the same code runs on a terminal, in tests and under systemd.
public struct SystemdNotifier: Sendable, Hashable {
    /// Where the datagrams go: a socket path, or a Linux abstract name (`$NOTIFY_SOCKET` starting with `@`).
    public typealias Address = UnixSocketAddress

    /// One state change; several may be sent in one datagram.
    public enum State: Sendable, Hashable {
        /// Start-up finished: systemd moves the unit to "active" and orders later units after it.
        case ready
        /// Shutdown began: systemd stops expecting watchdog pings.
        case stopping
        /// The agent is alive (resets the `WatchdogSec=` timer).
        case watchdog
        /// A one-line human status for `systemctl status` (newlines are replaced by spaces).
        case status(String)
        /// The main PID, when it differs from the sender's.
        case mainPID(Int32)

        /// The protocol's `KEY=VALUE` line.
        public var line: String {
            switch self {
            case .ready: "READY=1"
            case .stopping: "STOPPING=1"
            case .watchdog: "WATCHDOG=1"
            case .status(let text): "STATUS=" + Self.singleLine(text)
            case .mainPID(let pid): "MAINPID=\(pid)"
            }
        }

        private static func singleLine(_ text: String) -> String {
            String(text.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
        }
    }

    /// Why a notification could not be sent. Callers usually log it and carry on: a missed
    /// `READY=1` makes systemd time out the start, which is visible, but is no reason to stop publishing.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// The errno of the call that failed: ENOENT or ECONNREFUSED when nobody listens, ENAMETOOLONG when the
        /// name does not fit a socket address.
        public var code: Errno
        public var description: String
    }

    public let address: Address

    public init(address: Address) {
        self.address = address
    }

    /// The notifier systemd asked for through `$NOTIFY_SOCKET`, or nil when not run by systemd
    /// with `Type=notify` (or when the variable holds something that is not a socket address).
    public static func fromEnvironment(_ environment: [String: String]) -> SystemdNotifier? {
        guard let value = environment["NOTIFY_SOCKET"], let address = parse(value) else { return nil }
        return SystemdNotifier(address: address)
    }

    /// ``fromEnvironment(_:)`` for this process.
    public static func fromProcessEnvironment() -> SystemdNotifier? {
        fromEnvironment(CurrentProcess.environment(["NOTIFY_SOCKET"]))
    }

    /// Parses `$NOTIFY_SOCKET`: an absolute path or `@abstract-name`; at most 107 bytes (sun_path).
    public static func parse(_ value: String) -> Address? {
        let bytes = Array(value.utf8)
        guard bytes.count >= 2, bytes.count < Address.maximumPathBytes else { return nil }
        if bytes[0] == UInt8(ascii: "@") { return .abstract(String(value.dropFirst())) }
        if bytes[0] == UInt8(ascii: "/") { return .path(value) }
        return nil
    }

    /// Sends the states in one datagram.
    public func send(_ states: State...) throws(Failure) {
        try send(states)
    }

    /// Sends the states in one datagram.
    public func send(_ states: [State]) throws(Failure) {
        let message = Array(states.map(\.line).joined(separator: "\n").utf8)
        do throws(SystemError) {
            try UnixSocket.unbound(kind: .datagram).send(message, to: address)
        } catch {
            throw Failure(code: error.code, description: "sd_notify: \(error)")
        }
    }

    /// The watchdog interval systemd expects pings within (`$WATCHDOG_USEC`), or nil when there is
    /// none for this process: unset, not a positive number, or `$WATCHDOG_PID` names another process.
    /// Ping at half this interval (``pingInterval(environment:processID:)``), as sd_watchdog_enabled(3) advises.
    public static func watchdogInterval(environment: [String: String], processID: Int32) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let microseconds = Int64(text), microseconds > 0 else {
            return nil
        }
        if let pidText = environment["WATCHDOG_PID"] {
            guard let pid = Int32(pidText), pid == processID else { return nil }
        }
        return .microseconds(microseconds)
    }

    /// Half of ``watchdogInterval(environment:processID:)``: how often to send `WATCHDOG=1`.
    public static func pingInterval(environment: [String: String], processID: Int32) -> Duration? {
        watchdogInterval(environment: environment, processID: processID).map { $0 / 2 }
    }

    /// ``pingInterval(environment:processID:)`` for this process.
    public static func processPingInterval() -> Duration? {
        pingInterval(
            environment: CurrentProcess.environment(["WATCHDOG_USEC", "WATCHDOG_PID"]),
            processID: CurrentProcess.id
        )
    }
}
