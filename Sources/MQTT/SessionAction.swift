/// What the caller must do after feeding the session an input. Actions are ordered and must be applied in order.
public enum SessionAction: Sendable, Equatable {
    /// Write these bytes to the transport.
    case send([UInt8])
    /// Close the transport; the session already treats the connection as gone.
    case close(CloseReason)
    /// Something the application may want to know about.
    case event(SessionEvent)
}

/// Notifications from the session to the application.
public enum SessionEvent: Sendable, Equatable {
    /// CONNACK accepted the connection.
    case connected(sessionPresent: Bool, ConnAckPacket)
    /// CONNACK refused the connection (3.1.1 return codes mapped to MQTT 5 reason codes); followed by `.close`.
    case connectionRefused(ReasonCode, ServerNotice = ServerNotice())
    /// Final success: QoS 0 when written, QoS 1 on PUBACK, QoS 2 on PUBCOMP.
    case delivered(tag: UInt64)
    /// Final failure, never retried: an acknowledgement with reason >= 0x80 [MQTT-4.4.0-2], a queued message
    /// the broker's limits rule out at send time, or a QoS 0 message dropped with its connection.
    case deliveryFailed(tag: UInt64, ReasonCode)
    /// Incoming application message; QoS 2 messages are reported exactly once.
    case messageReceived(PublishPacket)
    /// SUBACK for a `subscribe` request: one result per filter.
    case subscribed(packetID: UInt16, [ReasonCode])
    /// SUBACK for subscriptions the session sent again on its own (the broker's session was new, or the first
    /// SUBACK was lost with its connection): the topic filters and one result each. A refused filter is dropped.
    case resubscribed([String], [ReasonCode])
    /// UNSUBACK for an `unsubscribe` request (empty for MQTT 3.1.1).
    case unsubscribed(packetID: UInt16, [ReasonCode])
    /// MQTT 5 DISCONNECT from the server, e.g. 0x8E Session taken over; followed by `.close(.serverDisconnect)`.
    case disconnectedByServer(ReasonCode, ServerNotice = ServerNotice())
    /// The server broke the protocol; followed by `.close(.protocolError)`.
    case protocolError(String)
}

/// Why the session asks for the transport to be closed.
public enum CloseReason: Sendable, Equatable {
    /// The application called `disconnect`.
    case clientDisconnect
    /// PINGRESP did not arrive within `pingTimeout`.
    case keepAliveTimeout
    /// CONNACK did not arrive within `connAckTimeout`.
    case connAckTimeout
    /// The server sent something invalid.
    case protocolError
    /// CONNACK refused the connection.
    case connectionRefused
    /// The server sent DISCONNECT.
    case serverDisconnect
}
