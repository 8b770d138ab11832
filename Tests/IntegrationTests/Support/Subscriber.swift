import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// An independent observer: Debian's `mosquitto_sub` with its own certificate, recording every message.
final class Subscriber: @unchecked Sendable {
    struct Message: Equatable {
        var topic: String
        var payload: String
    }

    private let outputFile: URL
    private let arguments: [String]
    private let supervisor = Mutex<(process: ChildProcess?, stopped: Bool)>((nil, false))
    let clientID: String

    /// - Parameter persistentSession: a fixed client id with Clean Session 0, so the broker queues
    ///   QoS 1 messages for it while it is away (across broker restarts with persistence).
    ///   `mosquitto_sub` exits when its connection is lost, so it is restarted until `stop()`.
    /// - Parameter qos: the subscription's QoS (2 to check exactly-once delivery end to end).
    convenience init(
        broker: TestBroker,
        topic: String = "devices/#",
        persistentSession: String? = nil,
        qos: Int = 1
    ) throws {
        let logFile = broker.logFile
        try self.init(
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
        readyTimeout: Duration = .seconds(10),
        ready: (String, String) -> Bool
    ) throws {
        let clientID = persistentSession ?? "watcher-\(UUID().uuidString.prefix(8))"
        self.clientID = clientID
        outputFile = folder.appendingPathComponent("\(clientID)-\(UUID().uuidString.prefix(4)).out")
        arguments =
            [
                "-h", "localhost", "-p", "\(port)",
                "--cafile", identity.trustAnchor, "--cert", identity.certificate, "--key", identity.key,
                "-i", clientID, "-q", "\(qos)", "-v", "-t", topic,
            ] + (persistentSession == nil ? [] : ["-c"]) + extraArguments
        let first = try ChildProcess("/usr/bin/mosquitto_sub", arguments, outputPath: outputFile.path)
        supervisor.withLock { $0.process = first }
        Thread { [self] in supervise() }.start()
        let deadline = ContinuousClock.now + readyTimeout
        while ContinuousClock.now < deadline {
            if ready(clientID, output) { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw HarnessError("mosquitto_sub did not subscribe: \(output)")
    }

    /// Restarts mosquitto_sub whenever it exits, until stopped (bounded by the test's own time limit).
    private func supervise() {
        while true {
            let (process, stopped) = supervisor.withLock { ($0.process, $0.stopped) }
            if stopped { return }
            if let process, process.isRunning {
                Thread.sleep(forTimeInterval: 0.05)
                continue
            }
            Thread.sleep(forTimeInterval: 0.2)
            let next = try? ChildProcess("/usr/bin/mosquitto_sub", arguments, outputPath: outputFile.path)
            let keep = supervisor.withLock { state -> Bool in
                guard !state.stopped else { return false }
                state.process = next
                return true
            }
            if !keep { next?.stop() }
        }
    }

    var output: String { (try? String(contentsOf: outputFile, encoding: .utf8)) ?? "" }

    var messages: [Message] {
        output.split(separator: "\n").compactMap { line -> Message? in
            if line.hasPrefix("Client ") { return nil }  // `-d` protocol trace
            let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { return nil }
            return Message(topic: String(parts[0]), payload: String(parts[1]))
        }
    }

    /// Waits (bounded) until `condition` holds for the messages so far; returns them either way.
    @discardableResult
    func wait(timeout: Duration = .seconds(20), until condition: ([Message]) -> Bool) -> [Message] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let current = messages
            if condition(current) { return current }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return messages
    }

    func stop() {
        let process = supervisor.withLock { state -> ChildProcess? in
            state.stopped = true
            return state.process
        }
        process?.stop()
    }

    deinit {
        stop()
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
