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
        LogSetup.bootstrap(level: options.level)
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
