public import Logging

/// Holds TLS back until the clock can be trusted, since certificate validity means nothing on a wrong clock.
public struct ClockGate: Sendable {
    public var probe: any ClockProbe
    public var requireSync: Bool
    public var pollInterval: Duration
    /// How often the wait is logged (not every poll).
    public var logInterval: Duration

    public init(probe: any ClockProbe, requireSync: Bool, pollInterval: Duration = .seconds(1), logInterval: Duration = .seconds(30)) {
        self.probe = probe
        self.requireSync = requireSync
        self.pollInterval = pollInterval
        self.logInterval = logInterval
    }

    /// Returns once the clock is synchronized (or at once when `requireSync` is false).
    /// Throws `CancellationError` if the task is cancelled while waiting.
    /// - Parameter heartbeat: called on every poll, so a service watchdog sees the agent alive while it waits.
    public func waitUntilTrusted(logger: Logger, heartbeat: @Sendable () -> Void = {}) async throws {
        guard requireSync else { return }
        let clock = ContinuousClock()
        var lastLog: ContinuousClock.Instant?
        while true {
            let report = probe.report()
            if report.synchronized {
                if lastLog != nil { logger.info("clock synchronized, connecting", metadata: ["clock": "\(report)"]) }
                return
            }
            let now = clock.now
            if lastLog.map({ now - $0 >= logInterval }) ?? true {
                logger.notice("waiting for a synchronized clock before any TLS (time.require_sync = true)", metadata: ["clock": "\(report)"])
                lastLog = now
            }
            heartbeat()
            try await Task.sleep(for: pollInterval)
        }
    }
}
