import Logging
import PinpostAgent

/// The one place the CLI bootstraps swift-log (at most once per process, as swift-log requires): journal
/// priorities under systemd, timestamped text on a terminal (see `JournalLogHandler`).
enum LogSetup {
    static func bootstrap(level: Logger.Level) {
        let style = JournalLogHandler.detectStyle()
        LoggingSystem.bootstrap { label in
            var handler = JournalLogHandler(label: label, style: style)
            handler.logLevel = level
            return handler
        }
    }
}
