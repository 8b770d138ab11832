import ArgumentParser
import PinpostAgent

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract:
            "Pre-flight: config, key file, certificates, clock, TLS handshake, MQTT CONNECT. Exit 0 only if all pass."
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "Seconds to wait for the broker.")
    var timeout: Int = 10

    func run() async throws {
        // A renewed identity (renewal.dir) is the one the agent uses, so it is the one to check.
        let configuration = IdentityStore.identityInUse(try options.load())
        let results = await Preflight.run(configuration: configuration, timeout: .seconds(timeout)) { result in
            FileOutput.standardOutput(result.description)
        }
        if results.contains(where: { !$0.passed }) {
            throw ExitCode(1)
        }
    }
}
