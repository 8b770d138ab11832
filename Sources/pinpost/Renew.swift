import ArgumentParser
import PinpostAgent
import SystemExtras
import SystemPackage

/// `pinpost renew --config FILE`: the running agent renews its certificate now, over MQTT, and this prints how it
/// ended. Exit 0 renewed, 1 not renewed (the reason is printed; the agent keeps its identity), 78 config.
struct Renew: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "renew",
        abstract: "Make the running agent renew its device certificate now (needs [renewal] in the config)."
    )

    @Option(
        name: .shortAndLong,
        help: "Path of the running agent's pinpost.toml.",
        completion: .file(extensions: ["toml"])
    )
    var config: String

    @Option(help: "Seconds to wait for the agent's answer (default: renewal.answer_timeout + accept_timeout + 30).")
    var timeout: Int?

    func run() throws {
        let configuration: AgentConfiguration
        do {
            configuration = try ConfigLoader.load(path: config)
        } catch {
            FileOutput.standardError("pinpost: \(error)")
            throw ExitCode(78)
        }
        guard let renewal = configuration.renewal else {
            FileOutput.standardError(
                "pinpost: \(configuration.file): no [renewal] table, so the agent does not renew its certificate; fix: add [renewal] (see README, Certificate renewal)"
            )
            throw ExitCode(78)
        }
        let path = IdentityStore(directory: renewal.directory).controlSocket
        let wait =
            timeout.map { Duration.seconds($0) } ?? (renewal.answerTimeout + renewal.acceptTimeout + .seconds(30))
        let answer: String
        do throws(SystemError) {
            answer = try Self.ask("renew\n", at: path, timeout: wait)
        } catch {
            FileOutput.standardError(
                "pinpost: cannot reach the agent at \(path): \(error); fix: start the agent (pinpost run or systemctl start pinpost) with this config"
            )
            throw ExitCode(1)
        }
        if answer.hasPrefix("ok ") {
            FileOutput.standardOutput(String(answer.dropFirst(3)))
        } else {
            FileOutput.standardError("pinpost: \(answer.hasPrefix("error: ") ? String(answer.dropFirst(7)) : answer)")
            throw ExitCode(1)
        }
    }

    /// One request line, one answer line.
    static func ask(_ request: String, at path: String, timeout: Duration) throws(SystemError) -> String {
        let socket = try UnixSocket.connected(to: .path(path), kind: .stream)
        try socket.writeAll(Array(request.utf8))
        var answer: [UInt8] = []
        let deadline = ContinuousClock.now + timeout
        while !answer.contains(UInt8(ascii: "\n")) {
            let left = deadline - ContinuousClock.now
            guard left > .zero, let chunk = try socket.receive(maximumCount: 4096, timeout: left), !chunk.isEmpty else {
                break
            }
            answer += chunk
        }
        return String(decoding: answer, as: UTF8.self).split(separator: "\n").first.map(String.init)
            ?? "error: no answer from the agent within \(timeout)"
    }
}
