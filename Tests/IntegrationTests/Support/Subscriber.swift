import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// An independent observer: Debian's `mosquitto_sub` with its own certificate, recording every message.
final class Subscriber: Sendable {
    struct Message: Equatable {
        var topic: String
        var payload: String
    }

    private let outputFile: URL
    private let supervision: Supervision
    let clientID: String

    /// - Parameter persistentSession: a fixed client id with Clean Session 0, so the broker queues
    ///   QoS 1 messages for it while it is away (across broker restarts with persistence).
    ///   `mosquitto_sub` may exit when its connection is lost, so it is restarted until `stop()`.
    /// - Parameter qos: the subscription's QoS (2 to check exactly-once delivery end to end).
    convenience init(
        broker: TestBroker,
        topic: String = "devices/#",
        persistentSession: String? = nil,
        qos: Int = 1
    ) async throws {
        let logFile = broker.logFile
        try await self.init(
            port: broker.port,
            identity: broker.pki.watcher(),
            folder: broker.folder,
            topic: topic,
            persistentSession: persistentSession,
            qos: qos
        ) { clientID, _ in
            // Ready once the broker logged the subscription (log_type all).
            let log = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
            return log.contains("Received SUBSCRIBE from \(clientID)")
        }
    }

    /// Any broker: `ready(clientID, output)` says when the subscription is in place (e.g. from `-d` output).
    init(
        port: Int,
        identity: TestPKI.Identity,
        folder: URL,
        topic: String,
        persistentSession: String?,
        qos: Int,
        extraArguments: [String] = [],
        readyTimeout: Duration = .seconds(30),
        ready: (String, String) async throws -> Bool
    ) async throws {
        let clientID = persistentSession ?? "watcher-\(UUID().uuidString.prefix(8))"
        self.clientID = clientID
        outputFile = folder.appendingPathComponent("\(clientID)-\(UUID().uuidString.prefix(4)).out")
        let arguments =
            [
                "-h", "localhost", "-p", "\(port)",
                "--cafile", identity.trustAnchor, "--cert", identity.certificate, "--key", identity.key,
                "-i", clientID, "-q", "\(qos)", "-v", "-t", topic,
            ] + (persistentSession == nil ? [] : ["-c"]) + extraArguments
        supervision = try Supervision(arguments: arguments, outputPath: outputFile.path)
        let output = outputFile
        guard try await waitFor(timeout: readyTimeout, { try await ready(clientID, Self.read(output)) }) else {
            supervision.stop()
            throw HarnessError("mosquitto_sub did not subscribe: \(Self.read(output))")
        }
    }

    var output: String { Self.read(outputFile) }

    private static func read(_ file: URL) -> String {
        (try? String(contentsOf: file, encoding: .utf8)) ?? ""
    }

    var messages: [Message] {
        output.split(separator: "\n").compactMap { line -> Message? in
            if line.hasPrefix("Client ") { return nil }  // `-d` protocol trace
            let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { return nil }
            return Message(topic: String(parts[0]), payload: String(parts[1]))
        }
    }

    /// Waits until `condition` holds for the messages so far, at most `timeout` (a failure bound); returns them either
    /// way.
    @discardableResult
    func wait(timeout: Duration = .seconds(30), until condition: ([Message]) -> Bool) async throws -> [Message] {
        var current: [Message] = []
        try await waitFor(timeout: timeout) {
            current = messages
            return condition(current)
        }
        return current
    }

    /// Ends `mosquitto_sub` for good (SIGKILL: it keeps nothing worth a graceful exit); it is not restarted.
    func stop() {
        supervision.stop()
    }

    deinit {
        stop()
    }

    /// Keeps one `mosquitto_sub` running until stopped. Separate from `Subscriber` so the restarting task does not
    /// keep the subscriber alive: a subscriber a test drops is stopped by its `deinit`.
    ///
    /// `mosquitto_sub` exits on some connection losses (a refused reconnection after a broker restart) and retries
    /// forever on others (its own reconnect loop), so it is restarted when it exits and killed when stopped; a
    /// subscriber that was never stopped used to keep retrying a dead broker's port after its test, and after the
    /// whole test run.
    private final class Supervision: Sendable {
        private let state = Mutex<(process: ChildProcess?, stopped: Bool)>((nil, false))
        private let arguments: [String]
        private let outputPath: String

        init(arguments: [String], outputPath: String) throws {
            self.arguments = arguments
            self.outputPath = outputPath
            let first = try ChildProcess("/usr/bin/mosquitto_sub", arguments, outputPath: outputPath)
            state.withLock { $0.process = first }
            // A task, so it belongs to the test's ChildScope like the first process; ends once stopped.
            Task { [self] in await supervise() }
        }

        /// Restarts mosquitto_sub whenever it exits, until stopped (polling: a short `Task.sleep` between looks).
        private func supervise() async {
            while true {
                let process = state.withLock { $0.stopped ? nil : $0.process }
                guard let process else { return }
                if process.isRunning {
                    try? await Task.sleep(for: .milliseconds(50))
                    continue
                }
                try? await Task.sleep(for: .milliseconds(200))
                // Started under the lock, so a concurrent stop() either prevents the start or kills what started.
                let carryOn = state.withLock { state -> Bool in
                    guard !state.stopped else { return false }
                    state.process = try? ChildProcess("/usr/bin/mosquitto_sub", arguments, outputPath: outputPath)
                    return state.process != nil
                }
                if !carryOn { return }
            }
        }

        func stop() {
            let process = state.withLock { state -> ChildProcess? in
                state.stopped = true
                defer { state.process = nil }
                return state.process
            }
            process?.kill()
        }
    }
}

/// The fields tests look at in a reading payload.
struct ReadingJSON: Decodable {
    var sensor: String
    var value: Int
    var ts: String
    var seq: UInt64
    var edge: String?
    var clock: String?

    static func parse(_ payload: String) -> ReadingJSON? {
        try? JSONDecoder().decode(ReadingJSON.self, from: Data(payload.utf8))
    }
}

/// The status message's fields tests look at.
struct StatusJSON: Decodable {
    var state: String
    var spool_depth: Int?
    var dropped: UInt64?
    var rejected: UInt64?
    var reconnects: Int?
    var last_disconnect: String?

    static func parse(_ payload: String) -> StatusJSON? {
        try? JSONDecoder().decode(StatusJSON.self, from: Data(payload.utf8))
    }

    static func state(_ payload: String) -> String {
        parse(payload)?.state ?? "unparsable: \(payload)"
    }
}
