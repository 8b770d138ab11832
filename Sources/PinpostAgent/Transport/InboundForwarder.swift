internal import NIOCore

/// Hands decrypted bytes and the connection's end to the agent's MQTT loop; nothing else.
final class InboundForwarder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let deliver: @Sendable (TransportEvent) -> Void
    private var firstError: (any Error)?
    private var closed = false

    init(deliver: @escaping @Sendable (TransportEvent) -> Void) {
        self.deliver = deliver
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        deliver(.bytes(Array(buffer.readableBytesView)))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if firstError == nil { firstError = error }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        guard !closed else { return }
        closed = true
        deliver(.closed(firstError))
    }
}
