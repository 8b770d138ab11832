/// Everything the publisher's single loop reacts to, funnelled into one stream so the MQTT
/// session state has exactly one owner.
enum ClientInput: Sendable {
    case transport(generation: Int, TransportEvent)
    /// The spool has new readings.
    case readingsAvailable
    /// The sensors stopped; nothing more will be appended.
    case readingsFinished
    case tick
    case retry(generation: Int)
    case shutdown
}
