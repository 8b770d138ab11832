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
    /// The deadline timer with this token fired.
    case timer(token: Int)
    case retry(token: Int)
    /// Reconnect now with the current endpoint (see `PublisherControl`).
    case reconnect(reason: String)
    /// The publisher asked to go on after the inputs queued before (`resumeLater`).
    case resume
    /// A message other than a reading to publish (see `MessageExchange`).
    case publish(OutboundMessage)
    /// Publish the status now (see `PublisherControl.publishStatus`).
    case publishStatus
    case shutdown
}
