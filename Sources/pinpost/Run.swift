import ArgumentParser
import Logging
import PinpostAgent

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the agent until SIGTERM or SIGINT, then flush, DISCONNECT and exit 0."
    )

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let configuration = try options.load()
        let level = options.level
        // Journal priorities under systemd, timestamped text on a terminal (see JournalLogHandler).
        let style = JournalLogHandler.detectStyle()
        LoggingSystem.bootstrap { label in
            var handler = JournalLogHandler(label: label, style: style)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "pinpost")
        do {
            try await Agent.run(configuration: configuration, logger: logger)
        } catch let error as AgentStartupError {
            FileOutput.standardError("pinpost: \(error)")
            throw ExitCode(error.exitCode.rawValue)
        } catch {
            logger.critical("pinpost stopped: \(error)")
            throw ExitCode(1)
        }
    }
}
