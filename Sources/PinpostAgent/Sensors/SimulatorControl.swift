internal import GPIO
internal import Logging
internal import NIOCore
internal import NIOPosix
internal import SystemExtras
internal import SystemPackage

/// The simulator's live control: a unix socket (mode 0600) on which `pinpost sim set door 1`
/// presses a simulated button while the agent runs.
///
/// Protocol: one line per connection, `set <sensor> <0|1>`, `list` or `outputs`; the answer is one line,
/// `ok ...` or `error: ...`, then the agent closes the connection. `outputs` answers
/// `ok relay=on:3 lamp=off:0` (each output's state and its level changes since it was claimed).
struct SimulatorControl: Sendable {
    let path: String
    let backend: SimulatedGPIO
    let sensors: [AgentConfiguration.Sensor]
    let outputs: @Sendable () -> [(name: String, address: LineAddress)]
    let logger: Logger

    /// Serves until the task is cancelled; removes the socket file afterwards.
    func run() async throws {
        let execute: @Sendable (String) -> String = { [backend, sensors, outputs] line in
            Self.execute(line, backend: backend, sensors: sensors, outputs: outputs())
        }
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ControlHandler(execute: execute))
                }
            }
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true)
            .get()
        do {
            try FileSystem.setPermissions(path, .ownerReadWrite)
        } catch {
            logger.warning("simulator control socket left with its default mode: \(error)")
        }
        logger.info("simulator control listening", metadata: ["socket": "\(path)"])
        await withTaskCancellationHandler {
            try? await channel.closeFuture.get()
        } onCancel: {
            channel.close(promise: nil)
        }
        FileSystem.remove(path)
    }

    static func execute(
        _ line: String,
        backend: SimulatedGPIO,
        sensors: [AgentConfiguration.Sensor],
        outputs: [(name: String, address: LineAddress)] = []
    ) -> String {
        let words = line.split(separator: " ").map(String.init)
        let names = sensors.filter { $0.kind.usesLine }.map(\.name)
        switch words.first {
        case "list":
            return "ok " + names.joined(separator: " ")
        case "outputs":
            let states = outputs.compactMap { output in
                backend.outputState(output.address).map {
                    "\(output.name)=\($0.value ? "on" : "off"):\($0.transitions)"
                }
            }
            return (["ok"] + states).joined(separator: " ")
        case "set":
            guard words.count == 3 else { return "error: usage: set <sensor> <0|1>" }
            guard let sensor = sensors.first(where: { $0.name == words[1] }) else {
                return "error: no sensor named '\(words[1])'; sensors with lines: \(names.joined(separator: ", "))"
            }
            guard let address = sensor.address else {
                return
                    "error: sensor '\(sensor.name)' is a \(sensor.kind.rawValue) sensor without a GPIO line; only \(names.joined(separator: ", ")) can be set"
            }
            let value: Bool
            switch words[2] {
            case "1", "on", "high", "true": value = true
            case "0", "off", "low", "false": value = false
            default: return "error: '\(words[2])' is not a value; use 1 or 0"
            }
            do {
                try backend.set(address, to: value)
                return "ok \(sensor.name)=\(value ? 1 : 0)"
            } catch {
                return "error: \(error)"
            }
        default:
            return "error: unknown command '\(line.prefix(40))'; use: set <sensor> <0|1>, list, or outputs"
        }
    }
}

/// Reads one line, answers it, closes.
private final class ControlHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let execute: @Sendable (String) -> String
    private var received: [UInt8] = []

    init(execute: @escaping @Sendable (String) -> String) {
        self.execute = execute
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        received += buffer.readBytes(length: buffer.readableBytes) ?? []
        if received.count > 1024 {
            respond(context: context, "error: request too long")
            return
        }
        guard let newline = received.firstIndex(of: UInt8(ascii: "\n")) else { return }
        let line = String(decoding: received[..<newline], as: UTF8.self)
        respond(context: context, execute(line))
    }

    private func respond(context: ChannelHandlerContext, _ text: String) {
        let buffer = context.channel.allocator.buffer(string: text + "\n")
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}
