import ArgumentParser
import CertificateAuthority
import Logging
import PinpostAgent
import ServiceLifecycle
import UnixSignals

/// `pinpost-ca`: the certificate authority's MQTT responder, next to the factory CA.
@main
struct PinpostCA: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pinpost-ca",
        abstract: "Answers devices' certificate requests over MQTT with the factory CA (see README, The CA responder).",
        subcommands: [Serve.self]
    )
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the responder until SIGTERM or SIGINT."
    )

    @Option(name: .shortAndLong, help: "Path of the responder's config (TOML).")
    var config: String

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError(
                "--log-level '\(logLevel)' is not a level; use trace, debug, info, notice, warning, error or critical"
            )
        }
    }

    func run() async throws {
        let configuration: ResponderConfiguration
        do {
            configuration = try ResponderConfigLoader.load(path: config)
        } catch {
            FileOutput.standardError("pinpost-ca: \(error)")
            throw ExitCode(78)
        }
        LogSetup.bootstrap(level: Logger.Level(rawValue: logLevel) ?? .info)
        let logger = Logger(label: "pinpost-ca")
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(
                        service: ResponderService(configuration: configuration, logger: logger),
                        serviceName: "responder"
                    )
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        do {
            try await group.run()
        } catch {
            logger.critical("pinpost-ca stopped: \(error)")
            throw ExitCode(1)
        }
    }
}
