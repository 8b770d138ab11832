internal import ClockTrust
internal import DurableSpool
internal import GPIO
internal import Logging
internal import MQTT
internal import ServiceLifecycle
internal import Synchronization
internal import SystemExtras
internal import UnixSignals

/// The listening half of the agent: claims the outputs, publishes Home Assistant discovery, handles commands from
/// `devices/<id>/commands/#` one at a time, and reloads the configuration on SIGHUP (in the same queue, so a
/// reload never interleaves with a command). On SIGTERM it drives every output to its safe state and publishes it
/// before the publisher drains (it comes after the publisher in the service group, so it stops first).
struct DeviceControlService: Service {
    private enum Input: Sendable {
        case message(PublishPacket, arrived: ContinuousClock.Instant)
        case reload
    }

    let configuration: AgentConfiguration
    let exchange: MessageExchange
    let outputs: OutputBank
    let triggers: SensorTriggers
    let control: PublisherControl?
    let clockProbe: any ClockProbe
    /// SIGHUP, trapped by `Agent.run` before systemd hears READY (see there).
    let hangups: UnixSignalsSequence
    let logger: Logger

    /// - Parameters:
    ///   - exchange: the publisher's door for commands in and replies, output states and discovery out.
    ///   - triggers: where `read_sensor` asks the sensors for a reading now.
    ///   - control: the publisher's controls (`publish_status`, reconnect after a configuration change).
    ///   - clockProbe: whether the clock is synchronized, for commands that carry a time.
    ///   - hangups: SIGHUP (reload the configuration), already trapped.
    init(
        configuration: AgentConfiguration,
        backend: any GPIOBackend,
        exchange: MessageExchange,
        triggers: SensorTriggers,
        control: PublisherControl?,
        clockProbe: any ClockProbe,
        hangups: UnixSignalsSequence,
        logger: Logger
    ) {
        self.configuration = configuration
        self.exchange = exchange
        self.triggers = triggers
        self.control = control
        self.clockProbe = clockProbe
        self.hangups = hangups
        self.logger = logger
        self.outputs = OutputBank(
            backend: backend,
            topics: CommandTopics(deviceID: configuration.device.id),
            logger: logger,
            send: { exchange.send($0) }
        )
    }

    /// Names and lines of the outputs held now (for the simulator's `pinpost sim show`).
    var outputDirectory: @Sendable () -> [(name: String, address: LineAddress)] {
        { [outputs] in outputs.directory.withLock { $0 } }
    }

    func run() async throws {
        try await outputs.start(configuration.outputs)
        let announcer = DiscoveryAnnouncer(
            spoolFolder: configuration.spool.directory,
            logger: logger,
            send: { [exchange] in exchange.send($0) }
        )
        announcer.announce(configuration)
        let reloader = ConfigReloader(
            configuration: configuration,
            outputs: outputs,
            announcer: announcer,
            control: control,
            logger: logger
        )
        let requireSync = configuration.time.requireSync
        let clockProbe = self.clockProbe
        var processor = CommandProcessor(
            topics: CommandTopics(deviceID: configuration.device.id),
            ledger: try CommandLedger(
                folder: configuration.spool.directory + "/commands",
                capacity: configuration.commands.remember
            ),
            targets: DeviceControl(outputs: outputs, triggers: triggers, control: control, reloader: reloader),
            clockTrusted: { !requireSync || clockProbe.isSynchronized },
            logger: logger
        )
        let (inputs, continuation) = AsyncStream<Input>.makeStream()
        let hangups = self.hangups
        let exchange = self.exchange
        let commandsEnabled = configuration.commands.enabled
        if commandsEnabled {
            logger.info("listening for commands", metadata: ["topic": "\(processor.topics.subscription.topicFilter)"])
        }
        // SIGTERM ends the queue: the command in progress finishes, later ones stay with the broker's session.
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    // Stamped on arrival, so a command queued behind a slow one still expires on time.
                    for await message in exchange.received {
                        continuation.yield(.message(message, arrived: .now))
                    }
                }
                group.addTask {
                    for await _ in hangups { continuation.yield(.reload) }
                }
                for await input in inputs {
                    switch input {
                    case .message(let message, let arrived):
                        guard commandsEnabled else { continue }
                        if let reply = await processor.handle(message, waited: .now - arrived) {
                            exchange.send(reply)
                        }
                    case .reload:
                        logger.notice(
                            "SIGHUP: reloading the configuration",
                            metadata: ["file": "\(configuration.file)"]
                        )
                        _ = try? await reloader.reload(replacingWith: nil, source: "SIGHUP")
                    }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            continuation.finish()
        }
        await outputs.shutDown()
        let counts = processor.counts
        logger.info(
            "commands handled",
            metadata: [
                "received": "\(counts.received)", "applied": "\(counts.applied)", "refused": "\(counts.refused)",
                "duplicates": "\(counts.duplicates)",
            ]
        )
    }
}
