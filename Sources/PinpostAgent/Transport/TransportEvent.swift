/// What the network tells the publisher about one connection.
enum TransportEvent: Sendable {
    /// Plaintext from the broker, everything one socket read brought.
    case bytes([UInt8])
    /// The socket's send buffer crossed NIO's high (false) or low (true) water mark.
    case writable(Bool)
    case closed((any Error)?)
}
