internal import NIOCore

/// Hands decrypted bytes, writability and the connection's end to the publisher; nothing else.
///
/// Bytes are gathered over one read cycle and delivered at `channelReadComplete`: PUBACKs that arrived in one
/// socket read wake the publisher once, not once per TLS record.
final class InboundForwarder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let deliver: @Sendable (TransportEvent) -> Void
    private var firstError: (any Error)?
    private var closed = false
    private var gathered: [UInt8] = []

    init(deliver: @escaping @Sendable (TransportEvent) -> Void) {
        self.deliver = deliver
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        gathered.append(contentsOf: buffer.readableBytesView)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        deliverGathered()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        deliver(.writable(context.channel.isWritable))
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if firstError == nil { firstError = error }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        guard !closed else { return }
        closed = true
        deliverGathered()
        deliver(.closed(firstError))
    }

    private func deliverGathered() {
        guard !gathered.isEmpty else { return }
        deliver(.bytes(gathered))
        gathered.removeAll(keepingCapacity: true)
    }
}
