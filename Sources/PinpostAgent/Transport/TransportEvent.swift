/// What the network tells the MQTT loop about one connection.
enum TransportEvent: Sendable {
    case bytes([UInt8])
    case closed((any Error)?)
}
