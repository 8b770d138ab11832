import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An independent observer: Debian's `mosquitto_sub` with its own certificate, recording every message.
final class Subscriber {
    struct Message: Equatable {
        var topic: String
        var payload: String
    }

    private let process: ChildProcess
    private let outputFile: URL

    init(broker: TestBroker, topic: String = "devices/#") throws {
        let identity = try broker.pki.watcher()
        let clientID = "watcher-\(UUID().uuidString.prefix(8))"
        outputFile = broker.folder.appendingPathComponent("\(clientID).out")
        process = try ChildProcess("/usr/bin/mosquitto_sub", [
            "-h", "localhost", "-p", "\(broker.port)",
            "--cafile", identity.trustAnchor, "--cert", identity.certificate, "--key", identity.key,
            "-i", clientID, "-q", "1", "-v", "-t", topic,
        ], outputPath: outputFile.path)
        // Ready once the broker logged the subscription (log_type all).
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let log = (try? String(contentsOfFile: broker.logFile, encoding: .utf8)) ?? ""
            if log.contains("Received SUBSCRIBE from \(clientID)") { return }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw HarnessError("mosquitto_sub did not subscribe: \(output)")
    }

    var output: String { (try? String(contentsOf: outputFile, encoding: .utf8)) ?? "" }

    var messages: [Message] {
        output.split(separator: "\n").compactMap { line -> Message? in
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
        process.stop()
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
