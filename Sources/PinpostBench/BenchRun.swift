internal import ClockTrust
internal import DurableSpool
internal import GPIO
public import Logging
internal import MQTT
public import PinpostAgent
internal import ServiceLifecycle
internal import SystemExtras
internal import TLS
internal import Timestamps
internal import UnixSignals

/// `pinpost bench`: the agent's own pipeline (spool, `PublisherService` with its `ClientSession`,
/// OpenSSL TLS) fed with synthetic readings, measured from inside.
///
/// It uses a fresh spool in `spool.dir/bench-<pid>` (removed afterwards), so the device's own spool
/// and seq counter are untouched while the fsync cost is that of the real storage. It connects
/// with the device's client id, so a running agent with that id is taken over for the duration.
public enum BenchRun {
    public static func run(
        configuration agentConfiguration: AgentConfiguration,
        request: BenchRequest,
        logger: Logger
    ) async throws(AgentStartupError) -> BenchReport {
        let startedAt = MonotonicInstant.now().nanoseconds
        // The bench's session is throwaway (its spool is fresh): Session Expiry 0 makes the broker drop
        // it at DISCONNECT, so the next bench (or agent) start is not offered a session it cannot resume.
        var configuration = agentConfiguration
        configuration.broker.sessionExpiry = 0
        let folder = configuration.spool.directory + "/bench-\(CurrentProcess.id)"
        var spoolConfiguration = configuration.spool
        spoolConfiguration.directory = folder
        // Room for every reading: the bench measures the pipeline, not the spool's full policy.
        let needed = (request.count + BenchDriver.maximumWarmUps) * (request.size + 256) * 2
        spoolConfiguration.maxBytes = min(max(spoolConfiguration.maxBytes, needed), 1 << 40)
        spoolConfiguration.whenFull = .dropNewest
        defer { removeBenchFolder(folder) }

        if request.spoolOnly {
            return try spoolOnly(configuration: configuration, spoolConfiguration: spoolConfiguration, request: request)
        }

        _ = try KeyFilePolicy.checkSecrets(configuration)
        let tls = try Agent.makeTLSContext(configuration)
        let timeline = AckTimeline(capacity: request.count + BenchDriver.maximumWarmUps)
        let spool: Spool
        do {
            spool = try Spool(configuration: spoolConfiguration)
        } catch {
            throw AgentStartupError(exitCode: .config, message: "\(configuration.file): \(error)")
        }
        let sealing = try ReadingSealing.make(configuration, spool: spool)
        let (wakeUps, wakeUpContinuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        // The same clock gate as `pinpost run` (Agent.run), so a cold start measures what the agent does.
        let clockGate = ClockGate(
            probe: CombinedClockProbe.full(maxErrorMilliseconds: configuration.time.maxErrorMilliseconds),
            requireSync: configuration.time.requireSync,
            syncTimeout: configuration.time.syncTimeout,
            onTimeout: configuration.time.onTimeout,
            floor: ClockFloor.make(for: configuration),
            waiter: LinuxClockWaiter()
        )
        let publisher = PublisherService(
            configuration: configuration,
            tls: tls,
            spool: TimedReadingStore(spool: spool, timeline: timeline),
            wakeUps: wakeUps,
            clockGate: clockGate,
            logger: logger
        )
        let driver = BenchDriver(
            request: request,
            spool: spool,
            topic: Topics(deviceID: configuration.device.id).sensor("bench"),
            timeline: timeline,
            wakeUp: wakeUpContinuation,
            startedAt: startedAt,
            sealer: sealing?.sealer
        )
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: publisher, serviceName: "publisher"),
                    // When the driver is done, the publisher drains and disconnects as on SIGTERM.
                    .init(
                        service: driver,
                        successTerminationBehavior: .gracefullyShutdownGroup,
                        serviceName: "bench-driver"
                    ),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        do {
            try await group.run()
        } catch {
            throw AgentStartupError(exitCode: .failure, message: "bench stopped: \(error)")
        }

        let outcome = driver.outcome
        let counts = timeline.counts
        // Warm-up readings are not part of the figures (AckTimeline counts only the measured seqs).
        let latencies = timeline.sortedLatencies()
        let measured = outcome.end > outcome.start
        return BenchReport(
            mode: .publish,
            count: request.count,
            qos: request.qos,
            size: request.size,
            protocolVersion: configuration.broker.protocolVersion == .v5 ? "5" : "3.1.1",
            fsync: fsyncText(configuration.spool.fsync),
            acknowledged: counts.acknowledged,
            rejected: counts.rejected,
            dropped: outcome.dropped,
            seconds: measured ? Double(outcome.end - outcome.start) / 1e9 : 0,
            cpuSeconds: measured ? outcome.usageAtEnd.cpuSeconds - outcome.usageAtStart.cpuSeconds : 0,
            cpuSecondsTotal: ResourceUsage.current().cpuSeconds,
            peakRSSKiB: ResourceUsage.current().peakRSSKiB,
            anonymousRSSKiB: ResourceUsage.anonymousRSSKiB(),
            latencyP50Milliseconds: percentile(latencies, 0.50),
            latencyP99Milliseconds: percentile(latencies, 0.99),
            latencyMaxMilliseconds: latencies.last.map { Double($0) / 1e6 },
            firstAckSeconds: outcome.firstAckSeconds,
            firstAckUnixNanoseconds: outcome.firstAckUnixNanoseconds,
            warmUps: outcome.warmUps
        )
    }

    /// Appends N readings to a fresh spool with the configured fsync policy, then checkpoints
    /// (so an interval policy's final fsync is inside the time too).
    private static func spoolOnly(
        configuration: AgentConfiguration,
        spoolConfiguration: SpoolConfiguration,
        request: BenchRequest
    ) throws(AgentStartupError) -> BenchReport {
        let spool: Spool
        do {
            spool = try Spool(configuration: spoolConfiguration)
        } catch {
            throw AgentStartupError(exitCode: .config, message: "\(configuration.file): \(error)")
        }
        let topic = Topics(deviceID: configuration.device.id).sensor("bench")
        let qos = UInt8(request.qos)
        let size = request.size
        // With [signing], each append includes signing (and encryption): the per-reading cost of a proof.
        let sealer = try ReadingSealing.make(configuration, spool: spool)?.sealer
        let usageAtStart = ResourceUsage.current()
        let start = MonotonicInstant.now().nanoseconds
        var dropped = 0
        for _ in 0..<request.count {
            let takenAt = UTCTime.now().epochMilliseconds
            let outcome = BenchPayload.append(
                to: spool,
                qos: qos,
                takenAt: takenAt,
                topic: topic,
                size: size,
                sealer: sealer
            )
            if case .dropped = outcome { dropped += 1 }
        }
        do {
            try spool.checkpoint()
        } catch {
            throw AgentStartupError(exitCode: .failure, message: "spool checkpoint failed: \(error)")
        }
        let end = MonotonicInstant.now().nanoseconds
        let usageAtEnd = ResourceUsage.current()
        return BenchReport(
            mode: .spool,
            count: request.count,
            qos: request.qos,
            size: request.size,
            protocolVersion: configuration.broker.protocolVersion == .v5 ? "5" : "3.1.1",
            fsync: fsyncText(configuration.spool.fsync),
            acknowledged: request.count - dropped,
            rejected: 0,
            dropped: dropped,
            seconds: Double(end - start) / 1e9,
            cpuSeconds: usageAtEnd.cpuSeconds - usageAtStart.cpuSeconds,
            cpuSecondsTotal: usageAtEnd.cpuSeconds,
            peakRSSKiB: usageAtEnd.peakRSSKiB,
            anonymousRSSKiB: ResourceUsage.anonymousRSSKiB()
        )
    }

    /// Nearest-rank percentile of sorted nanoseconds, in milliseconds.
    static func percentile(_ sorted: [UInt64], _ fraction: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return Double(sorted[min(max(rank, 1), sorted.count) - 1]) / 1e6
    }

    static func fsyncText(_ fsync: SpoolConfiguration.Fsync) -> String {
        switch fsync {
        case .always: return "always"
        case .interval(let interval): return DurationText.format(interval)
        }
    }

    /// Removes `bench-<pid>/spool/*` and the folders (the bench's own files only).
    private static func removeBenchFolder(_ folder: String) {
        let spoolFolder = folder + "/spool"
        for name in FileSystem.listDirectory(spoolFolder) {
            FileSystem.remove(spoolFolder + "/" + name)
        }
        try? FileSystem.removeDirectory(spoolFolder)
        try? FileSystem.removeDirectory(folder)
    }
}
