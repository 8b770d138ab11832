import ArgumentParser
import PinpostAgent
import SystemExtras
internal import SystemPackage

/// `pinpost config ...`: the device config as the factory and the demo write it.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Write a device's pinpost.toml (the factory and make demo use this).",
        subcommands: [ConfigGenerate.self]
    )
}

/// `pinpost config generate`: one generator for every device config, checked by the agent's own loader
/// before it is written, so a factory never ships a bundle the agent would refuse.
struct ConfigGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a device's pinpost.toml from the factory's choices and a board profile or sensors file.",
        discussion: """
            The sensors come from a board profile (--profile, e.g. board/profiles/raspberry-pi-4.toml: its [gpio] \
            settings and [[sensor]] tables) or a file of [[sensor]] tables (--sensors); a config without sensors is \
            refused, since such a device publishes nothing real. The GPIO backend is the profile's, else libgpiod; \
            the simulated backend only with --gpio-backend simulated. The result is loaded with the agent's config loader \
            before it is written. Exit codes: 0 written, 78 refused (the message names the file, the key and the fix).
            """
    )

    @Option(help: "Device id (the certificate's CN).")
    var id: String

    @Option(help: "Broker host name or IP address.")
    var brokerHost: String

    @Option(help: "Broker TLS port.")
    var brokerPort: Int = 8883

    @Option(name: .customLong("protocol"), help: "MQTT version: 5 or 3.1.1.")
    var protocolVersion: String = "5"

    @Flag(help: "Write time.require_sync = false (laptops, CI; a board should wait for its clock).")
    var noRequireSync = false

    @Option(help: "spool.dir: the agent's state folder.")
    var spoolDir: String = "/var/lib/pinpost"

    @Option(help: "Board profile (a complete pinpost.toml whose [gpio] and [[sensor]] tables are taken).")
    var profile: String?

    @Option(help: "File of [[sensor]] tables.")
    var sensors: String?

    @Option(help: "GPIO backend: libgpiod or simulated (default: the profile's, else libgpiod).")
    var gpioBackend: String?

    @Option(help: "tls.ca_file as written (relative to the config's folder).")
    var caFile: String = "ca.crt"

    @Option(help: "tls.cert_file as written.")
    var certFile: String = "device.crt"

    @Option(help: "tls.key_file as written.")
    var keyFile: String = "device.key"

    @Option(help: "Who writes it, for the first comment line.")
    var writtenBy: String = "pinpost config generate"

    @Option(help: "Write here (atomically, mode 0644) instead of standard output.")
    var out: String?

    func validate() throws {
        guard profile == nil || sensors == nil else {
            throw ValidationError("pass --profile FILE or --sensors FILE, not both")
        }
        guard protocolVersion == "5" || protocolVersion == "3.1.1" else {
            throw ValidationError("--protocol '\(protocolVersion)': use 5 or 3.1.1")
        }
        guard gpioBackend.map({ AgentConfiguration.Backend(rawValue: $0) != nil }) ?? true else {
            throw ValidationError("--gpio-backend '\(gpioBackend ?? "")': use libgpiod or simulated")
        }
    }

    func run() throws {
        let request = DeviceConfigRequest(
            deviceID: id,
            brokerHost: brokerHost,
            brokerPort: brokerPort,
            protocolVersion: protocolVersion,
            requireSync: !noRequireSync,
            spoolDirectory: spoolDir,
            backend: gpioBackend.flatMap(AgentConfiguration.Backend.init(rawValue:)),
            sensors: profile.map { .profile(path: $0) } ?? sensors.map { .tables(path: $0) },
            caFile: caFile,
            certFile: certFile,
            keyFile: keyFile,
            writtenBy: writtenBy
        )
        // Written to standard output it has no path yet; errors then name it by its role.
        let file = out.map { FileSystem.absolute($0, relativeTo: FileSystem.currentDirectory()) } ?? "pinpost.toml"
        let text: String
        do {
            text = try DeviceConfigGenerator.generate(request, file: file)
        } catch {
            FileOutput.standardError("pinpost config generate: \(error)")
            throw ExitCode(78)
        }
        guard let out else {
            FileOutput.standardOutput(text.hasSuffix("\n") ? String(text.dropLast()) : text)
            return
        }
        do {
            try FileSystem.writeFileAtomically(
                out,
                Array(text.utf8),
                permissions: [.ownerReadWrite, .groupRead, .otherRead]
            )
        } catch {
            FileOutput.standardError("pinpost config generate: \(error); fix: choose a writable --out")
            throw ExitCode(1)
        }
    }
}
