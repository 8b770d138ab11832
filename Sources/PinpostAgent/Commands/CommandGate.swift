internal import Timestamps

/// The time rules of a command, decided without I/O: a command past its expiry is refused (never applied late),
/// and a command that carries a time is refused while the clock cannot be trusted to judge it.
enum CommandGate {
    /// - Parameters:
    ///   - expires: the payload's `expires` time.
    ///   - messageExpiry: the MQTT 5 Message Expiry Interval the broker delivered (what was left of it then).
    ///   - waited: how long the command has waited in the agent since it arrived.
    ///   - wallNow: the wall clock now.
    ///   - clockTrusted: whether the wall clock may judge a time (synchronized, or `time.require_sync = false`).
    static func check(
        expires: UTCTime?,
        messageExpiry: UInt32?,
        waited: Duration,
        wallNow: UTCTime,
        clockTrusted: Bool
    ) -> CommandError? {
        if let messageExpiry, waited >= .seconds(Int64(messageExpiry)) {
            return CommandError(
                .expired,
                "the message expiry interval (\(messageExpiry) s left on arrival) ran out before it could be applied"
            )
        }
        guard let expires else { return nil }
        guard clockTrusted else {
            return CommandError(
                .clockUntrusted,
                field: "expires",
                "the command carries a time and the device's clock is not synchronized, so it cannot tell whether \(expires.rfc3339) has passed; send it again once the clock is synchronized, or without \"expires\" (with an MQTT 5 Message Expiry Interval instead)"
            )
        }
        if wallNow >= expires {
            return CommandError(
                .expired,
                field: "expires",
                "expired at \(expires.rfc3339); the device's clock reads \(wallNow.rfc3339)"
            )
        }
        return nil
    }
}
