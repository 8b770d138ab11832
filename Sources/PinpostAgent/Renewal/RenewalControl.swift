internal import Logging
internal import NIOCore
internal import NIOPosix
internal import SystemExtras
internal import SystemPackage

/// `pinpost renew`'s door into the running agent: a unix socket (mode 0600) in `renewal.dir`. Protocol: one line,
/// `renew`; the answer is one line once the renewal has ended, `ok renewed: ...` or `error: ...`.
struct RenewalControl: Sendable {
    let path: String
    let logger: Logger
    let renew: @Sendable (String) async -> RenewalOutcome

    /// Serves until the task is cancelled; removes the socket file afterwards.
    func run() async {
        let renew = self.renew
        let channel: any Channel
        do {
            try FileSystem.createDirectory(FileSystem.directoryName(of: path), permissions: .ownerReadWriteExecute)
            channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(RenewalControlHandler(renew: renew))
                    }
                }
                .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true)
                .get()
        } catch {
            logger.warning("pinpost renew cannot reach this agent: its socket \(path) failed: \(error)")
            return
        }
        do {
            try FileSystem.setPermissions(path, .ownerReadWrite)
        } catch {
            logger.warning("renewal control socket left with its default mode: \(error)")
        }
        await withTaskCancellationHandler {
            try? await channel.closeFuture.get()
        } onCancel: {
            channel.close(promise: nil)
        }
        FileSystem.remove(path)
    }
}

/// Reads one line, runs the renewal, answers, closes.
private final class RenewalControlHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let renew: @Sendable (String) async -> RenewalOutcome
    private var received: [UInt8] = []
    private var answered = false

    init(renew: @escaping @Sendable (String) async -> RenewalOutcome) {
        self.renew = renew
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        received += buffer.readBytes(length: buffer.readableBytes) ?? []
        guard !answered else { return }
        if received.count > 256 {
            answered = true
            Self.respond(context.channel, "error: request too long")
            return
        }
        guard let newline = received.firstIndex(of: UInt8(ascii: "\n")) else { return }
        answered = true
        let line = String(decoding: received[..<newline], as: UTF8.self)
        let channel = context.channel
        guard line == "renew" else {
            Self.respond(channel, "error: unknown request '\(line.prefix(40))'; use: renew")
            return
        }
        let renew = self.renew
        Task {
            let outcome = await renew("pinpost renew")
            Self.respond(channel, outcome.renewed ? "ok \(outcome)" : "error: \(outcome)")
        }
    }

    private static func respond(_ channel: any Channel, _ text: String) {
        let buffer = channel.allocator.buffer(string: text + "\n")
        channel.writeAndFlush(buffer).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}
