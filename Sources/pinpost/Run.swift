import ArgumentParser
import CPinpostHeapPolicy
import Logging
import PinpostAgent

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the agent until SIGTERM or SIGINT, then flush, DISCONNECT and exit 0."
    )

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let configuration = try options.load()
        LogSetup.bootstrap(level: options.level)
        let logger = Logger(label: "pinpost")
        defer {
            // After the run every thread the agent ever had has allocated: with the policy holding, one arena.
            logger.debug(
                "malloc arenas",
                metadata: [
                    "arenas": "\(CPinpostHeapPolicy_arena_count())", "limit": "\(CPinpostHeapPolicy_arena_limit())",
                ]
            )
        }
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
