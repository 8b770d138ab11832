internal import ClockTrust
internal import Logging
internal import SystemExtras
internal import SystemPackage
internal import TLS
internal import Timestamps

/// Loads a new configuration with the agent's own loader and applies it while running (SIGHUP, and the
/// `apply_config` command): all of it or nothing. A configuration that fails validation, or that changes a key only
/// a restart applies, is refused with the reason and the running one stays. Broker and TLS changes reconnect at once
/// (no reading is lost); outputs and Home Assistant change in place.
actor ConfigReloader {
    private(set) var current: AgentConfiguration
    private let outputs: OutputBank
    private let announcer: DiscoveryAnnouncer
    private let control: PublisherControl?
    private let logger: Logger

    init(
        configuration: AgentConfiguration,
        outputs: OutputBank,
        announcer: DiscoveryAnnouncer,
        control: PublisherControl?,
        logger: Logger
    ) {
        self.current = configuration
        self.outputs = outputs
        self.announcer = announcer
        self.control = control
        self.logger = logger
    }

    /// Reloads the config file, or (with `text`) validates `text` and writes it over the file; `source` names who
    /// asked, for the log. Returns the reply's fields; throws the refusal.
    func reload(replacingWith text: String?, source: String) async throws(CommandError) -> CommandReply.Fields {
        let file = current.file
        let next: AgentConfiguration
        do {
            next =
                try text.map { text throws(ConfigError) in try ConfigLoader.parse(text, file: file) }
                ?? ConfigLoader.load(path: file)
        } catch {
            throw refused(
                CommandError(.configInvalid, field: "config", "\(error); the running configuration stays"),
                source
            )
        }
        let change = ConfigChange(from: current, to: next)
        guard change.restart.isEmpty else {
            throw refused(
                CommandError(
                    .restartRequired,
                    field: "config",
                    "\(change.restart.joined(separator: ", ")) change only at a restart (systemctl restart pinpost); nothing was applied and the running configuration stays"
                ),
                source
            )
        }
        var endpoint: BrokerEndpoint?
        if !change.reconnect.isEmpty {
            do {
                endpoint = try Self.endpoint(for: next)
            } catch {
                throw refused(
                    CommandError(.configInvalid, field: "config", "\(error); the running configuration stays"),
                    source
                )
            }
        }
        if next.outputs != current.outputs {
            do {
                _ = try await outputs.reconfigure(next.outputs)
            } catch {
                throw refused(
                    CommandError(.configInvalid, field: "config", "\(error); the running configuration stays"),
                    source
                )
            }
        }
        if let text {
            do {
                try FileSystem.writeFileAtomically(file, Array(text.utf8), permissions: [.ownerReadWrite, .groupRead])
            } catch {
                if next.outputs != current.outputs { _ = try? await outputs.reconfigure(current.outputs) }
                throw refused(
                    CommandError(
                        .configNotWritable,
                        field: "config",
                        "the new configuration is valid but could not be written over \(file) (\(error)); nothing was applied. Fix: let the agent's user write that file and its folder, or use apply_config without \"config\" after changing the file by other means"
                    ),
                    source
                )
            }
        }
        if next.homeAssistant != current.homeAssistant || next.outputs != current.outputs {
            announcer.announce(next)
        }
        if let endpoint {
            control?.reconnect(
                to: endpoint,
                reason: "configuration changed: \(change.reconnect.joined(separator: ", "))"
            )
        }
        current = next
        logger.notice(
            change.isEmpty ? "configuration reloaded: nothing changed" : "configuration applied",
            metadata: [
                "source": "\(source)", "live": "\(change.live.joined(separator: ", "))",
                "reconnect": "\(change.reconnect.joined(separator: ", "))",
            ]
        )
        return [
            ReplyField("changed", .bool(!change.isEmpty)),
            ReplyField("applied", .strings(change.live)),
            ReplyField("reconnect", .strings(change.reconnect)),
        ]
    }

    /// The broker endpoint of `configuration`, after the same checks `pinpost run` makes at start: secret file
    /// modes, the TLS context (trust anchors, certificate, key) and the device certificate's identity.
    static func endpoint(for configuration: AgentConfiguration) throws(AgentStartupError) -> BrokerEndpoint {
        _ = try KeyFilePolicy.checkSecrets(configuration)
        let tls = try Agent.makeTLSContext(configuration)
        let floor = ClockFloor.make(for: configuration)
        let wallNow = UTCTime.now().epochMilliseconds / 1000
        _ = try DeviceIdentity.check(
            configuration: configuration,
            certificate: tls.deviceCertificate,
            now: max(wallNow, floor.floor)
        )
        return BrokerEndpoint(
            host: configuration.broker.host,
            port: configuration.broker.port,
            connectTimeout: configuration.broker.connectTimeout,
            tls: tls
        )
    }

    private func refused(_ error: CommandError, _ source: String) -> CommandError {
        logger.error(
            "configuration refused",
            metadata: ["source": "\(source)", "code": "\(error.code.rawValue)", "reason": "\(error.message)"]
        )
        return error
    }
}
