public import MQTT
public import Publisher
internal import Synchronization

/// The publisher's door for messages that are not readings: what the broker sends the device (commands), and
/// what the agent sends besides readings (replies, output states). The publisher holds one side; a service
/// that listens holds the other. Both streams buffer without bound only as far as their producers go: the
/// broker's Receive Maximum bounds what arrives, and the agent's own messages are few.
public final class MessageExchange: Sendable {
    /// Messages from the broker, in arrival order, except those a `messages(where:)` listener takes.
    public let received: AsyncStream<PublishPacket>
    private let receivedInput: AsyncStream<PublishPacket>.Continuation
    /// Messages to publish, in the order given.
    let outgoing: AsyncStream<OutboundMessage>
    private let outgoingInput: AsyncStream<OutboundMessage>.Continuation
    /// Listeners that take the messages of their own topics (`messages(where:)`).
    private let listeners = Mutex<[Listener]>([])

    private struct Listener: Sendable {
        var accepts: @Sendable (String) -> Bool
        var continuation: AsyncStream<PublishPacket>.Continuation
    }

    public init() {
        (received, receivedInput) = AsyncStream.makeStream()
        (outgoing, outgoingInput) = AsyncStream.makeStream()
    }

    /// Publishes through the MQTT session (not through the spool: not kept across restarts).
    public func send(_ message: OutboundMessage) {
        outgoingInput.yield(message)
    }

    /// The messages whose topic `accepts` says yes to, for a service that owns some topics (certificate renewal's
    /// answers) beside another that reads `received` (commands): each message goes to every listener that accepts
    /// it, and to `received` only when none does. Call before the publisher starts, so nothing is missed.
    public func messages(where accepts: @escaping @Sendable (String) -> Bool) -> AsyncStream<PublishPacket> {
        let (stream, continuation) = AsyncStream<PublishPacket>.makeStream()
        listeners.withLock { $0.append(Listener(accepts: accepts, continuation: continuation)) }
        return stream
    }

    func deliver(_ message: PublishPacket) {
        let takers = listeners.withLock { $0.filter { $0.accepts(message.topic) } }
        guard !takers.isEmpty else {
            receivedInput.yield(message)
            return
        }
        for taker in takers { taker.continuation.yield(message) }
    }

    /// The publisher stopped: no more messages either way.
    func finish() {
        receivedInput.finish()
        outgoingInput.finish()
        for listener in listeners.withLock({ $0 }) { listener.continuation.finish() }
    }
}
