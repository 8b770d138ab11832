import ArgumentParser
import Logging
import PinpostAgent
import SystemExtras
import SystemPackage

/// Exit codes are a public contract: 0 success, 1 failure (or a failed check), 77 key permissions, 78 config or usage.
@main
struct Pinpost: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pinpost",
        abstract: "Device agent: reads sensors and publishes them over MQTT with mutual TLS.",
        subcommands: [
            Run.self, Check.self, Sim.self, Version.self, Decommission.self, Bench.self, ConfigCommand.self,
            InstallBundle.self, Verify.self, Renew.self,
        ]
    )

    /// Usage errors exit 78 (EX_CONFIG) like config errors, rather than ArgumentParser's 64.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileOutput.standardError(fullMessage(for: error))
                FileOutput.standardError("run 'pinpost --help' for usage")
                CurrentProcess.exit(usageExitCode())
            }
            exit(withError: error)
        }
    }
}

/// Options shared by the commands that read a config file.
struct ConfigOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Path of pinpost.toml.", completion: .file(extensions: ["toml"]))
    var config: String

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    mutating func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError(
                "--log-level '\(logLevel)' is not a level; use trace, debug, info, notice, warning, error or critical"
            )
        }
    }

    var level: Logger.Level { Logger.Level(rawValue: logLevel) ?? .info }

    func load() throws -> AgentConfiguration {
        do {
            return try ConfigLoader.load(path: config)
        } catch {
            FileOutput.standardError("pinpost: \(error)")
            throw ExitCode(78)
        }
    }
}
