import Logging
import PinpostAgent
import Synchronization
import Testing
import Timestamps

/// Journal priorities, terminal text and secret redaction of the agent's log handler.
@Suite("Journal log handler")
struct JournalLogHandlerTests {
    final class Lines: Sendable {
        let storage = Mutex<[String]>([])
        var all: [String] { storage.withLock { $0 } }
        func append(_ line: String) { storage.withLock { $0.append(line) } }
    }

    let time = UTCTime(epochMilliseconds: 1_767_225_600_123)  // 2026-01-01T00:00:00.123Z

    func handler(_ style: JournalLogHandler.Style, into lines: Lines) -> JournalLogHandler {
        var handler = JournalLogHandler(label: "pinpost", style: style, sink: { lines.append($0) })
        handler.logLevel = .trace
        return handler
    }

    @Test func journalLinesCarrySyslogPriorities() {
        let lines = Lines()
        let logger = Logger(label: "pinpost") { _ in handler(.journal, into: lines) }
        logger.critical("a")
        logger.error("b")
        logger.warning("c")
        logger.notice("d")
        logger.info("e")
        logger.debug("f")
        logger.trace("g")
        #expect(
            lines.all == [
                "<2>pinpost: a", "<3>pinpost: b", "<4>pinpost: c", "<5>pinpost: d", "<6>pinpost: e", "<7>pinpost: f",
                "<7>pinpost: g",
            ]
        )
    }

    @Test func terminalLinesCarryTimeAndLevel() {
        let handler = handler(.terminal, into: Lines())
        #expect(
            handler.render(level: .warning, message: "broker refused", metadata: ["device": "dev-1"], time: time)
                == ["2026-01-01T00:00:00.123Z warning pinpost: broker refused device=dev-1"]
        )
    }

    @Test func everyLineOfAMultiLineMessageKeepsItsPriority() {
        let handler = handler(.journal, into: Lines())
        #expect(
            handler.render(level: .error, message: "first\n<0>forged", metadata: [:], time: time)
                == ["<3>pinpost: first", "<3>pinpost: <0>forged"]
        )
        #expect(
            handler.render(level: .info, message: "bell\u{07}cr\r", metadata: [:], time: time) == [
                "<6>pinpost: bell?cr?"
            ]
        )
    }

    @Test func secretsAreNeverWritten() {
        let handler = handler(.journal, into: Lines())
        let pem = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49\n-----END PRIVATE KEY-----"
        let lines = handler.render(
            level: .info,
            message: "loaded \(pem) ok",
            metadata: [
                "password": "hunter2", "api_token": "abc", "key_file": "/etc/pinpost/device.key", "pin": "1234",
                "dump": "\(pem)",
            ],
            time: time
        )
        let text = lines.joined(separator: "\n")
        #expect(
            !text.contains("hunter2") && !text.contains("abc ") && !text.contains("1234") && !text.contains("MIGHAgEA"),
            "\(text)"
        )
        #expect(text.contains("key_file=/etc/pinpost/device.key"), "paths are not secrets")
        #expect(text.contains("loaded <redacted private key> ok"))
        #expect(
            text.contains("password=<redacted>") && text.contains("api_token=<redacted>")
                && text.contains("pin=<redacted>")
        )
    }

    @Test func journalStyleOnlyWhenJournalStreamIsStandardError() {
        #expect(JournalLogHandler.style(journalStream: "8:12345", device: 8, inode: 12345) == .journal)
        #expect(JournalLogHandler.style(journalStream: "8:12345", device: 8, inode: 999) == .terminal)
        #expect(JournalLogHandler.style(journalStream: nil, device: 8, inode: 12345) == .terminal)
        #expect(JournalLogHandler.style(journalStream: "garbage", device: 8, inode: 12345) == .terminal)
    }

    @Test func metadataIsAValuePerHandler() {
        let lines = Lines()
        var logger = Logger(label: "pinpost") { _ in handler(.journal, into: lines) }
        logger[metadataKey: "device"] = "dev-7"
        logger.info("up", metadata: ["seq": "3"])
        #expect(lines.all == ["<6>pinpost: up device=dev-7 seq=3"])
    }
}
