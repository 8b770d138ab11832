internal import Logging
internal import SystemExtras

/// The named steps of a certificate swap. Debug builds stop dead (SIGKILL, as a power cut would) at the step named by
/// `PINPOST_RENEWAL_CRASH_AT`, so a test can prove that a stop at any of them leaves an agent that connects; release
/// builds ignore the variable.
public enum RenewalStep: String, Sendable, CaseIterable {
    /// The new key is on disk (`pending/device.key`, or made on the token); the request was not sent yet.
    case keyMade = "key-made"
    /// The issued certificate passed its checks and is on disk next to the key (`pending/device.crt`).
    case certificateWritten = "certificate-written"
    /// `pending/` became the next generation (`gN/`); the state does not name it yet.
    case stored
    /// The state names the generation as on trial: a start from here tries it first.
    case trialRecorded = "trial-recorded"
    /// The publisher was asked to reconnect with the new identity; the broker has not answered yet.
    case reconnecting
    /// The broker accepted the new identity; the state still says trial.
    case accepted
    /// The new generation is the active one; the old one is still on disk.
    case committed
    /// The old generation is gone; the CA has not been told yet.
    case oldRemoved = "old-removed"

    /// The environment variable naming the step to stop at (debug builds).
    public static let crashVariable = "PINPOST_RENEWAL_CRASH_AT"

    /// Marks the step as reached; in a debug build whose `PINPOST_RENEWAL_CRASH_AT` names it, the process dies here.
    func reached(logger: Logger) {
        logger.debug("renewal step", metadata: ["step": "\(rawValue)"])
        #if DEBUG
        if CurrentProcess.environment([Self.crashVariable])[Self.crashVariable] == rawValue {
            logger.warning("stopping dead at renewal step \(rawValue) (\(Self.crashVariable), debug builds only)")
            CurrentProcess.killImmediately()
        }
        #endif
    }
}
