import ArgumentParser
import PinpostAgent
import SystemExtras
import SystemPackage

/// `pinpost sim ...`: drive the simulated backend of a running agent by hand.
struct Sim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Control a running agent's simulated sensors (gpio.backend = \"simulated\").",
        subcommands: [SimSet.self, SimShow.self]
    )
}

/// The running agent `pinpost sim` talks to: its config (for `gpio.sim_socket`) or the socket itself.
struct SimAgent: ParsableArguments {
    @Option(
        name: .shortAndLong,
        help: "Path of the running agent's pinpost.toml (finds gpio.sim_socket).",
        completion: .file(extensions: ["toml"])
    )
    var config: String?

    @Option(help: "The control socket (default: gpio.sim_socket of --config, else <spool.dir>/sim.sock).")
    var socket: String?

    func validate() throws {
        guard config != nil || socket != nil else {
            throw ValidationError("pass --config FILE (the running agent's) or --socket PATH")
        }
    }

    /// `--socket`, else the `gpio.sim_socket` of `--config` (exit 78 when that config does not load).
    func socketPath() throws -> String {
        if let socket { return socket }
        do {
            return try ConfigLoader.load(path: config ?? "").gpio.simSocket
        } catch {
            FileOutput.standardError("pinpost: \(error)")
            throw ExitCode(78)
        }
    }

    /// Sends one request and returns the agent's `ok …` answer; anything else is printed and exits 1.
    func request(_ line: String) throws -> String {
        let path = try socketPath()
        let answer: String
        do {
            answer = try Self.send(line + "\n", to: path)
        } catch {
            FileOutput.standardError("pinpost: \(error)")
            throw ExitCode(1)
        }
        guard answer.hasPrefix("ok") else {
            FileOutput.standardError("pinpost: \(answer)")
            throw ExitCode(1)
        }
        return answer
    }

    struct Failure: Error, CustomStringConvertible {
        /// The errno of the socket call that failed.
        var code: Errno
        var description: String
    }

    /// One request, one answer line, over the agent's unix socket.
    static func send(_ request: String, to path: String) throws(Failure) -> String {
        let socket: UnixSocket
        do throws(SystemError) {
            socket = try UnixSocket.connected(to: .path(path), kind: .stream)
        } catch {
            throw Failure(
                code: error.code,
                description:
                    "cannot reach the simulator at \(path): \(error.code); fix: start the agent with gpio.backend = \"simulated\" (it listens on gpio.sim_socket), or pass the right --config/--socket"
            )
        }
        var answer: [UInt8] = []
        do throws(SystemError) {
            try socket.writeAll(Array(request.utf8))
            // The agent answers at once; a wait this long means it is stuck.
            while !answer.contains(UInt8(ascii: "\n")),
                let chunk = try socket.receive(maximumCount: 512, timeout: .seconds(10)), !chunk.isEmpty
            {
                answer += chunk
            }
        } catch {
            throw Failure(code: error.code, description: "talking to the simulator at \(path): \(error)")
        }
        return String(decoding: answer, as: UTF8.self).split(separator: "\n").first.map(String.init)
            ?? "error: no answer"
    }
}

/// `pinpost sim show`: the simulated outputs of a running agent, with how often each changed.
struct SimShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show the simulated outputs: each one's state and its level changes since the agent claimed it."
    )

    @OptionGroup var agent: SimAgent

    func run() throws {
        let entries = try agent.request("outputs").split(separator: " ").dropFirst()
        if entries.isEmpty { FileOutput.standardOutput("no outputs") }
        for entry in entries {
            // name=state:transitions
            let parts = entry.split(separator: "=", maxSplits: 1)
            let values = parts.last?.split(separator: ":") ?? []
            guard parts.count == 2, values.count == 2 else { continue }
            FileOutput.standardOutput("\(parts[0]) \(values[0]) transitions=\(values[1])")
        }
    }
}

/// `pinpost sim set door 1`: press (1) or release (0) a simulated input from another terminal.
struct SimSet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set a simulated sensor's line: 1 = active (the reading's value), 0 = inactive."
    )

    @OptionGroup var agent: SimAgent

    @Argument(help: "Sensor name.")
    var sensor: String

    @Argument(help: "1 or 0.")
    var value: String

    func validate() throws {
        guard ["0", "1", "on", "off", "high", "low"].contains(value) else {
            throw ValidationError("'\(value)' is not a value; use 1 or 0")
        }
    }

    func run() throws {
        FileOutput.standardOutput(try agent.request("set \(sensor) \(value)"))
    }
}
