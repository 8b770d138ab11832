public import MQTT
public import Publisher

/// The publisher's door for messages that are not readings: what the broker sends the device (commands), and
/// what the agent sends besides readings (replies, output states). The publisher holds one side; a service
/// that listens holds the other. Both streams buffer without bound only as far as their producers go: the
/// broker's Receive Maximum bounds what arrives, and the agent's own messages are few.
public final class MessageExchange: Sendable {
    /// Messages from the broker, in arrival order.
    public let received: AsyncStream<PublishPacket>
    private let receivedInput: AsyncStream<PublishPacket>.Continuation
    /// Messages to publish, in the order given.
    let outgoing: AsyncStream<OutboundMessage>
    private let outgoingInput: AsyncStream<OutboundMessage>.Continuation

    public init() {
        (received, receivedInput) = AsyncStream.makeStream()
        (outgoing, outgoingInput) = AsyncStream.makeStream()
    }

    /// Publishes through the MQTT session (not through the spool: not kept across restarts).
    public func send(_ message: OutboundMessage) {
        outgoingInput.yield(message)
    }

    func deliver(_ message: PublishPacket) {
        receivedInput.yield(message)
    }

    /// The publisher stopped: no more messages either way.
    func finish() {
        receivedInput.finish()
        outgoingInput.finish()
    }
}
