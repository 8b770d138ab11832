public import ClockTrust
internal import DurableSpool
public import Logging
internal import MQTT
internal import NIOCore
internal import NIOPosix
public import ServiceLifecycle
public import TLS
internal import Timestamps

/// Keeps an MQTT session with the broker over verified TLS and delivers everything in the spool.
///
/// The decisions are `PublisherMachine`'s (module Publisher); `PublisherDriver` performs them. One loop
/// owns both: network bytes, connection results, spool wake-ups, timers and shutdown all arrive as
/// `ClientInput`s. Readings leave the spool only when the broker has
/// acknowledged them. Reconnects back off with full jitter; certificate and authorization
/// failures take a slow path since retrying fast cannot fix them.
public struct PublisherService: Service {
    let configuration: AgentConfiguration
    let tls: TLSContext
    let spool: any ReadingStore
    let wakeUps: AsyncStream<Void>
    let clockGate: ClockGate
    let logger: Logger
    /// How long a graceful shutdown waits for outstanding acknowledgements.
    let drainTimeout: Duration
    /// systemd's notification socket, when started as a `Type=notify` service.
    let systemd: SystemdNotifier?
    /// Messages other than readings, both ways (commands in, replies out), when a service listens.
    let exchange: MessageExchange?
    /// The door other services use to make the publisher reconnect (new endpoint or identity).
    public let control: PublisherControl

    public init(
        configuration: AgentConfiguration,
        tls: TLSContext,
        spool: any ReadingStore,
        wakeUps: AsyncStream<Void>,
        clockGate: ClockGate,
        logger: Logger,
        drainTimeout: Duration = .seconds(5),
        systemd: SystemdNotifier? = nil,
        exchange: MessageExchange? = nil
    ) {
        self.exchange = exchange
        self.control = PublisherControl(
            endpoint: BrokerEndpoint(
                host: configuration.broker.host,
                port: configuration.broker.port,
                connectTimeout: configuration.broker.connectTimeout,
                tls: tls
            )
        )
        self.systemd = systemd
        self.configuration = configuration
        self.tls = tls
        self.spool = spool
        self.wakeUps = wakeUps
        self.clockGate = clockGate
        self.logger = logger
        self.drainTimeout = drainTimeout
    }

    public func run() async throws {
        // One loop for the publisher and its broker channel (EventLoopTaskExecutor says why).
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        await withTaskExecutorPreference(EventLoopTaskExecutor(loop)) {
            await runLoop(on: loop)
        }
        do {
            try spool.checkpoint()
        } catch {
            logger.error("spool checkpoint at shutdown failed: \(error)")
        }
    }

    private func runLoop(on loop: any EventLoop) async {
        let inputs = control.inputs
        let control = self.control
        let wakeUps = self.wakeUps
        await withGracefulShutdownHandler {
            // Discarding: every connection attempt and timer is a child task, and a plain task group keeps each
            // finished child until it is awaited, which this loop never does (seen as RSS growing ~5 KB/s in
            // the soak at 200 readings/s).
            await withDiscardingTaskGroup { group in
                group.addTask {
                    for await _ in wakeUps {
                        control.yield(.readingsAvailable)
                    }
                    control.yield(.readingsFinished)
                }
                if let exchange = self.exchange {
                    group.addTask {
                        for await message in exchange.outgoing {
                            control.yield(.publish(message))
                        }
                    }
                }
                let systemd = self.systemd
                let watchdog = SystemdNotifier.processPingInterval()
                // Start-up is done once the config, the key, the spool and the sensors are up: READY now, not
                // after the clock gate, or a board without time would hold its boot (multi-user.target waits
                // for a Type=notify unit) for as long as it has no time. The gate still holds back every TLS byte.
                notifyReady()
                do {
                    // SIGTERM must end a wait for the clock too, not only a running session.
                    _ = try await cancelWhenGracefulShutdown {
                        try await clockGate.waitUntilTrusted(logger: logger) {
                            if watchdog != nil { try? systemd?.send(.watchdog) }
                        }
                    }
                } catch {
                    group.cancelAll()
                    return
                }
                var driver = PublisherDriver(service: self)
                var timers = LoopTimers()
                defer { timers.cancelAll() }
                driver.start()
                launch(driver.takeLaunches(), on: loop, in: &group, timers: &timers)
                for await input in inputs {
                    driver.handle(input)
                    launch(driver.takeLaunches(), on: loop, in: &group, timers: &timers)
                    if driver.isFinished { break }
                }
                // The DISCONNECT (and TLS close_notify) must leave before the process does.
                await driver.connectionsClosed()
                exchange?.finish()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            try? systemd?.send(.stopping, .status("shutting down: flushing readings"))
            control.yield(.shutdown)
        }
    }

    private func notifyReady() {
        guard let systemd else { return }
        do {
            try systemd.send(.ready, .status(clockGate.requireSync ? "checking the clock" : "starting"))
        } catch {
            logger.debug("systemd notification failed: \(error)")
        }
    }

    /// Starts what the driver asked for beside the loop: connection attempts and timers report back through
    /// `control`, tagged so the driver can tell a current report from a stale one.
    private func launch(
        _ launches: [PublisherDriver.Launch],
        on loop: any EventLoop,
        in group: inout DiscardingTaskGroup,
        timers: inout LoopTimers
    ) {
        let control = self.control
        for launch in launches {
            switch launch {
            case .connect(let attempt, let endpoint):
                let connector = BrokerConnector(
                    host: endpoint.host,
                    port: endpoint.port,
                    connectTimeout: endpoint.connectTimeout,
                    tls: endpoint.tls,
                    group: loop
                )
                group.addTask {
                    do throws(ConnectFailure) {
                        let connection = try await connector.connect { event in
                            control.yield(.transport(attempt: attempt, event))
                        }
                        guard !Task.isCancelled else {
                            connection.close()
                            return
                        }
                        control.yield(.connected(attempt: attempt, connection))
                    } catch {
                        control.yield(.connectFailed(attempt: attempt, error))
                    }
                }
            case .retryTimer(let delay, let token):
                timers.retry?.cancel()
                timers.retry = loop.scheduleTask(in: TimeAmount(delay)) { control.yield(.retry(token: token)) }
            case .resume:
                control.yield(.resume)
            case .timer(let instant, let token):
                timers.deadline?.cancel()
                let delay = TimeAmount(ContinuousClock.now.duration(to: instant))
                timers.deadline = loop.scheduleTask(in: delay) { control.yield(.timer(token: token)) }
            }
        }
    }
}

/// The publisher's timers, on its own event loop rather than as sleeping child tasks: a timer that a new one
/// replaces is cancelled at once (a sleeping task lived on until its deadline, a keep-alive or status interval
/// away, and a broker restart left a dozen of them), and firing costs no task and no libdispatch timer.
private struct LoopTimers {
    /// The machine's next deadline (`PublisherDriver.Launch.timer`).
    var deadline: Scheduled<Void>?
    /// The back-off before the next connection attempt.
    var retry: Scheduled<Void>?

    func cancelAll() {
        deadline?.cancel()
        retry?.cancel()
    }
}
