public import Logging
public import ServiceLifecycle
internal import SystemExtras
public import TLS
internal import Timestamps

/// While the agent runs, notices wall-clock steps (timerfd cancel-on-set), logs those larger than
/// `time.step_threshold`, and re-checks that the clock is above the floor and that the device
/// certificate is valid at the new time: a certificate that "expired" by a step is worth a warning
/// before the broker says so.
public struct ClockStepMonitor: Service {
    let threshold: Duration
    let floor: ClockFloor
    let deviceCertificate: CertificateSummary
    let logger: Logger

    public init(threshold: Duration, floor: ClockFloor, deviceCertificate: CertificateSummary, logger: Logger) {
        self.threshold = threshold
        self.floor = floor
        self.deviceCertificate = deviceCertificate
        self.logger = logger
    }

    public func run() async throws {
        let waiter = LinuxClockWaiter(flagFile: "/nonexistent/pinpost-no-flag")
        await cancelWhenGracefulShutdown {
            var offset = Self.wallMinusMonotonic()
            while !Task.isCancelled {
                guard await waiter.wait(upTo: .seconds(3600)) == .stepped else { continue }
                let newOffset = Self.wallMinusMonotonic()
                let step = newOffset - offset
                offset = newOffset
                guard abs(step) >= threshold else { continue }
                let now = UTCTime.now()
                logger.warning("wall clock stepped by \(step) to \(now.rfc3339Seconds)")
                let seconds = now.epochMilliseconds / 1000
                if let violation = floor.violation(now: seconds) {
                    logger.error("after the step: \(violation)")
                } else if seconds < deviceCertificate.notBefore || seconds > deviceCertificate.notAfter {
                    logger.error(
                        "after the step the device certificate is outside its validity (\(deviceCertificate)); the broker will refuse it; fix: check the clock source"
                    )
                }
            }
        }
    }

    /// CLOCK_REALTIME minus CLOCK_MONOTONIC: constant unless the wall clock is stepped (or slewed).
    static func wallMinusMonotonic() -> Duration {
        SystemClock.realtime.read() - SystemClock.monotonic.read()
    }
}

private func abs(_ duration: Duration) -> Duration {
    duration < .zero ? .zero - duration : duration
}
