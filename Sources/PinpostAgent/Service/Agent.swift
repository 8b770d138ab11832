internal import ClockTrust
internal import DurableSpool
internal import GPIO
public import Logging
internal import ReadingProof
internal import ServiceLifecycle
internal import SystemExtras
public import TLS
internal import Timestamps
internal import UnixSignals

/// Builds the agent's services from a configuration and runs them until SIGTERM or SIGINT.
public enum Agent {
    /// Runs `pinpost run`. Throws `AgentStartupError` for problems found before anything runs.
    public static func run(configuration loaded: AgentConfiguration, logger: Logger) async throws {
        // The identity in use may be a renewed one (renewal.dir), or one on trial after an interrupted swap.
        guard let startup = try await RenewalStartup.prepare(loaded, logger: logger) else { return }
        let configuration = startup.configuration
        try KeyFilePolicy.checkSecrets(configuration)
        let tls = try makeTLSContext(configuration)
        // A clock below the floor is known to be wrong: judge the certificate's validity at the floor
        // instead, and let the clock gate hold the connection until the clock is fixed.
        let floor = ClockFloor.make(for: configuration)
        let wallNow = UTCTime.now().epochMilliseconds / 1000
        let identity = try DeviceIdentity.check(
            configuration: configuration,
            certificate: tls.deviceCertificate,
            now: max(wallNow, floor.floor)
        )
        if let warning = identity.warning {
            logger.warning("\(warning)", metadata: ["days_left": "\(identity.daysLeft)"])
        }

        let spool: Spool
        do {
            spool = try Spool(configuration: configuration.spool)
        } catch {
            throw AgentStartupError(exitCode: .config, message: "\(configuration.file): \(error)")
        }
        let backend = try makeBackend(configuration)
        let readingProbe = CombinedClockProbe.cheap(maxErrorMilliseconds: configuration.time.maxErrorMilliseconds)
        let clockGate = ClockGate(
            probe: CombinedClockProbe.full(maxErrorMilliseconds: configuration.time.maxErrorMilliseconds),
            requireSync: configuration.time.requireSync,
            syncTimeout: configuration.time.syncTimeout,
            onTimeout: configuration.time.onTimeout,
            floor: floor,
            waiter: LinuxClockWaiter()
        )
        let nextSeq = spool.lastSeq + 1
        let (wakeUps, wakeUpContinuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let sealing = try ReadingSealing.make(configuration, spool: spool)
        let recorder = ReadingRecorder(
            spool: spool,
            topics: Topics(deviceID: configuration.device.id),
            wakeUp: wakeUpContinuation,
            sealer: sealing?.sealer,
            logger: logger
        )
        let exchange = MessageExchange()
        // Signed readings: the device certificate goes out retained, so verifiers find the key in the subscription.
        if let sealing { exchange.send(sealing.announcement) }
        // SIGHUP (reload) is trapped before the publisher tells systemd READY: `systemctl reload` right after a start
        // must not end the agent by the signal's default action (which Restart=on-failure counts as a clean exit).
        // A SIGHUP that arrives before the service runs waits in the sequence and reloads then.
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let triggers = SensorTriggers()
        let publisher = PublisherService(
            configuration: configuration,
            tls: tls,
            spool: spool,
            wakeUps: wakeUps,
            clockGate: clockGate,
            logger: logger,
            systemd: SystemdNotifier.fromProcessEnvironment(),
            exchange: exchange
        )
        let deviceControl = DeviceControlService(
            configuration: configuration,
            backend: backend,
            exchange: exchange,
            triggers: triggers,
            control: publisher.control,
            clockProbe: readingProbe,
            hangups: hangups,
            logger: logger
        )
        let renewal = startup.renewalService(control: publisher.control, exchange: exchange, logger: logger)
        let sensors = SensorService(
            sensors: configuration.sensors,
            backend: backend,
            recorder: recorder,
            clockProbe: readingProbe,
            logger: logger,
            settings: configuration.gpio,
            triggers: triggers,
            outputs: deviceControl.outputDirectory
        )
        let stepMonitor = ClockStepMonitor(
            threshold: configuration.time.stepThreshold,
            floor: floor,
            deviceCertificate: tls.deviceCertificate,
            logger: logger
        )
        logger.info(
            "pinpost starting",
            metadata: [
                "device": "\(configuration.device.id)",
                "broker": "\(configuration.broker.host):\(configuration.broker.port)",
                "sensors": "\(configuration.sensors.count)",
                "outputs": "\(configuration.outputs.count)",
                "next_seq": "\(nextSeq)",
                "stream": "\(spool.stream)",
                "signing": "\(sealing.map { "on, chain from seq \($0.sealer.head.seq)" } ?? "off")",
            ]
        )
        // Order matters: shutdown runs in reverse, so sensors stop and outputs reach their safe state (published)
        // before the publisher drains.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: stepMonitor, successTerminationBehavior: .ignore, serviceName: "clock-step-monitor"),
            .init(service: publisher, serviceName: "publisher"),
            .init(service: deviceControl, successTerminationBehavior: .ignore, serviceName: "device-control"),
        ]
        if let renewal {
            services.append(.init(service: renewal, successTerminationBehavior: .ignore, serviceName: "renewal"))
        }
        services.append(.init(service: sensors, successTerminationBehavior: .ignore, serviceName: "sensors"))
        let group = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
        // Every service has stopped, so nothing appends any more: record the clean stop with the exact last
        // seq, so the next start continues the count.
        do {
            try spool.close()
        } catch {
            logger.error("spool not closed cleanly: \(error); the next start treats this stop as a crash")
        }
    }

    public static func makeTLSContext(_ configuration: AgentConfiguration) throws(AgentStartupError) -> TLSContext {
        let pin = try configuration.tls.pinFile.map { path throws(AgentStartupError) in
            try KeyFilePolicy.readSecret(path, field: "tls.pin_file")
        }
        do {
            return try TLSContext(
                configuration: TLSConfiguration(
                    caFile: configuration.tls.caFile,
                    caDirectory: configuration.tls.caDir,
                    certificateChainFile: configuration.tls.certFile,
                    privateKey: configuration.tls.privateKeySource(pin: pin),
                    crlFile: configuration.tls.crlFile,
                    revocation: configuration.tls.crlMode,
                    ocsp: configuration.tls.ocsp,
                    serverName: configuration.tls.serverName,
                    minimumVersion: configuration.tls.minVersion == "1.3" ? .tls13 : .tls12
                )
            )
        } catch {
            throw AgentStartupError(exitCode: .config, message: "\(configuration.file): \(error)")
        }
    }

    static func makeBackend(_ configuration: AgentConfiguration) throws(AgentStartupError) -> any GPIOBackend {
        switch configuration.backend {
        case .simulated:
            var waveforms: [LineAddress: Waveform] = [:]
            for sensor in configuration.sensors {
                if let address = sensor.address {
                    waveforms[address] = sensor.simulate
                }
            }
            return SimulatedGPIO(waveforms: waveforms)
        case .libgpiod:
            return LibgpiodBackend()
        }
    }
}

/// A problem found before the agent started, with the exit code `pinpost` should use.
public struct AgentStartupError: Error, Sendable, CustomStringConvertible {
    public enum ExitCode: Int32, Sendable {
        case failure = 1
        case noPermission = 77
        case config = 78
    }

    public var exitCode: ExitCode
    public var message: String
    public var description: String { message }

    public init(exitCode: ExitCode, message: String) {
        self.exitCode = exitCode
        self.message = message
    }
}
