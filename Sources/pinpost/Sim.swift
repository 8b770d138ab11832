import ArgumentParser
import PinpostAgent

#if canImport(Glibc)
import Glibc
#endif

/// `pinpost sim ...`: drive the simulated backend of a running agent by hand.
struct Sim: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Control a running agent's simulated sensors (gpio.backend = \"simulated\").",
        subcommands: [SimSet.self]
    )
}

/// `pinpost sim set door 1`: press (1) or release (0) a simulated input from another terminal.
struct SimSet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set a simulated sensor's line: 1 = active (the reading's value), 0 = inactive."
    )

    @Option(
        name: .shortAndLong,
        help: "Path of the running agent's pinpost.toml (finds gpio.sim_socket).",
        completion: .file(extensions: ["toml"])
    )
    var config: String?

    @Option(help: "The control socket (default: gpio.sim_socket of --config, else <spool.dir>/sim.sock).")
    var socket: String?

    @Argument(help: "Sensor name.")
    var sensor: String

    @Argument(help: "1 or 0.")
    var value: String

    func validate() throws {
        guard config != nil || socket != nil else {
            throw ValidationError("pass --config FILE (the running agent's) or --socket PATH")
        }
        guard ["0", "1", "on", "off", "high", "low"].contains(value) else {
            throw ValidationError("'\(value)' is not a value; use 1 or 0")
        }
    }

    func run() throws {
        let path: String
        if let socket {
            path = socket
        } else {
            do {
                path = try ConfigLoader.load(path: config ?? "").gpio.simSocket
            } catch {
                FileOutput.standardError("pinpost: \(error)")
                throw ExitCode(78)
            }
        }
        let answer: String
        do {
            answer = try Self.send("set \(sensor) \(value)\n", to: path)
        } catch {
            FileOutput.standardError("pinpost: \(error)")
            throw ExitCode(1)
        }
        if answer.hasPrefix("ok") {
            FileOutput.standardOutput(answer)
        } else {
            FileOutput.standardError("pinpost: \(answer)")
            throw ExitCode(1)
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// One request, one answer line, over the agent's unix socket.
    static func send(_ request: String, to path: String) throws -> String {
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket(): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw Failure(description: "socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else {
            throw Failure(
                description:
                    "cannot reach the simulator at \(path): \(String(cString: strerror(errno))); fix: start the agent with gpio.backend = \"simulated\" (it listens on gpio.sim_socket), or pass the right --config/--socket"
            )
        }
        var out = Array(request.utf8)
        while !out.isEmpty {
            let written = out.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw Failure(description: "write to \(path) failed") }
            out.removeFirst(written)
        }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 512)
        while !answer.contains(UInt8(ascii: "\n")) {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            answer += chunk[..<count]
        }
        return String(decoding: answer, as: UTF8.self).split(separator: "\n").first.map(String.init)
            ?? "error: no answer"
    }
}
