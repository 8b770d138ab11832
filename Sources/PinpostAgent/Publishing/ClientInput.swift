internal import Publisher

/// Everything the publisher reacts to, funnelled into one stream so the state machine has exactly one owner.
/// Connection results and transport events carry the attempt they belong to; stale ones are dropped.
enum ClientInput: Sendable {
    case connected(attempt: Int, BrokerConnection)
    case connectFailed(attempt: Int, ConnectFailure)
    case transport(attempt: Int, TransportEvent)
    /// The spool has new readings.
    case readingsAvailable
    /// The sensors stopped; nothing more will be appended.
    case readingsFinished
    case tick
    case retry(token: Int)
    /// A message other than a reading to publish (see `MessageExchange`).
    case publish(OutboundMessage)
    case shutdown
}
