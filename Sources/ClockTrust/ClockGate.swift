public import Logging
internal import SystemExtras
internal import Timestamps

/// Holds TLS back until the clock can be trusted, since certificate validity means nothing on a
/// wrong clock.
///
/// Below the floor (build time, newest certificate notBefore) the agent never connects, whatever
/// `require_sync` says. With `require_sync` it waits for a synchronized clock, reacting at once to a
/// clock step or timesyncd's flag file and otherwise polling; after `sync_timeout` it keeps waiting
/// or, with `proceed-if-plausible`, goes ahead if the clock is above the floor and inside every
/// certificate's validity. Deadlines are monotonic, so a clock step cannot shorten or stretch them.
public struct ClockGate: Sendable {
    public enum TimeoutPolicy: String, Sendable, Equatable {
        case wait
        case proceedIfPlausible = "proceed-if-plausible"
    }

    public enum Outcome: Sendable, Equatable {
        case synchronized(ClockReport)
        /// `require_sync = false` and the clock is above the floor.
        case notRequired
        /// `sync_timeout` passed and the clock looked plausible.
        case proceededUnsynchronized(ClockReport)
    }

    /// After a clock step: poll this often for `quickPeriod`.
    static let quickPoll = Duration.milliseconds(250)
    static let quickPeriod = Duration.seconds(5)

    public var probe: any ClockProbe
    public var requireSync: Bool
    /// nil: no time-out.
    public var syncTimeout: Duration?
    public var onTimeout: TimeoutPolicy
    public var floor: ClockFloor
    public var waiter: any ClockWaiter
    /// Wall clock, epoch seconds (injectable so tests can be in 1970).
    public var wallClock: @Sendable () -> Int64
    public var pollInterval: Duration
    /// How often the wait is logged (not every poll).
    public var logInterval: Duration

    public init(
        probe: any ClockProbe,
        requireSync: Bool,
        syncTimeout: Duration? = nil,
        onTimeout: TimeoutPolicy = .wait,
        floor: ClockFloor,
        waiter: any ClockWaiter,
        wallClock: (@Sendable () -> Int64)? = nil,
        pollInterval: Duration = .seconds(5),
        logInterval: Duration = .seconds(60)
    ) {
        self.probe = probe
        self.requireSync = requireSync
        self.syncTimeout = syncTimeout
        self.onTimeout = onTimeout
        self.floor = floor
        self.waiter = waiter
        self.wallClock = wallClock ?? { UTCTime.now().epochMilliseconds / 1000 }
        self.pollInterval = pollInterval
        self.logInterval = logInterval
    }

    /// Returns once connecting is allowed. Throws `CancellationError` if cancelled while waiting.
    /// - Parameter heartbeat: called on every poll, so a service watchdog sees the agent alive while it waits.
    @discardableResult
    public func waitUntilTrusted(logger: Logger, heartbeat: @Sendable () -> Void = {}) async throws -> Outcome {
        let start = waiter.now
        var lastLog: Duration?
        var lastMessage = ""
        var timeoutLogged = false
        // NTP clients step the clock and then mark it synchronized: after a step, look again often
        // for a little while instead of waiting for the next regular poll.
        var quickUntil: Duration?
        func log(_ level: Logger.Level, _ message: String) {
            let now = waiter.now
            if message != lastMessage || lastLog.map({ now - $0 >= logInterval }) ?? true {
                logger.log(level: level, "\(message)")
                lastLog = now
                lastMessage = message
            }
        }
        while true {
            try Task.checkCancellation()
            let wall = wallClock()
            if let violation = floor.violation(now: wall) {
                log(.error, "not connecting: \(violation)")
            } else if !requireSync {
                return .notRequired
            } else {
                let report = probe.report()
                if report.synchronized {
                    if lastLog != nil {
                        logger.info("clock synchronized, connecting", metadata: ["clock": "\(report)"])
                    }
                    return .synchronized(report)
                }
                let elapsed = waiter.now - start
                if let syncTimeout, elapsed >= syncTimeout {
                    switch onTimeout {
                    case .proceedIfPlausible where floor.isPlausible(now: wall):
                        logger.warning(
                            "clock still not synchronized after time.sync_timeout \(syncTimeout); proceeding because it is above the floor and inside the certificates' validity (time.on_timeout = proceed-if-plausible); readings are marked \"clock\":\"unsynced\"",
                            metadata: ["clock": "\(report)"]
                        )
                        return .proceededUnsynchronized(report)
                    case .proceedIfPlausible:
                        log(
                            .error,
                            "clock not synchronized after time.sync_timeout and not plausible (outside a certificate's validity): still waiting; \(report)"
                        )
                    case .wait:
                        if !timeoutLogged {
                            logger.error(
                                "clock still not synchronized after time.sync_timeout \(syncTimeout); still waiting (time.on_timeout = wait); fix: enable NTP, or set time.on_timeout = \"proceed-if-plausible\"",
                                metadata: ["clock": "\(report)"]
                            )
                            timeoutLogged = true
                        }
                    }
                } else {
                    log(
                        .notice,
                        "waiting for a synchronized clock before any TLS (time.require_sync = true): \(report)"
                    )
                }
            }
            heartbeat()
            let quick = quickUntil.map { waiter.now < $0 } ?? false
            let reason = await waiter.wait(upTo: quick ? Self.quickPoll : pollInterval)
            if reason == .stepped {
                logger.info("wall clock stepped; checking again")
                quickUntil = waiter.now + Self.quickPeriod
            }
        }
    }
}
