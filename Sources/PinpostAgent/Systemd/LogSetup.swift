public import Logging

/// The one place the command-line tools (`pinpost`, `pinpost-ca`) bootstrap swift-log (at most once per process,
/// as swift-log requires): journal priorities under systemd, timestamped text on a terminal (see `JournalLogHandler`).
public enum LogSetup {
    public static func bootstrap(level: Logger.Level) {
        let style = JournalLogHandler.detectStyle()
        LoggingSystem.bootstrap { label in
            var handler = JournalLogHandler(label: label, style: style)
            handler.logLevel = level
            return handler
        }
    }
}
