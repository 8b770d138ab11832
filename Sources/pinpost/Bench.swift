import ArgumentParser
import Logging
import PinpostAgent
import PinpostBench

/// `pinpost bench`: throughput, CPU, peak RSS and ack latency of the agent's own pipeline against
/// the configured broker, so the figures in board/bench/BENCHMARKS.md can be reproduced on a board.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract:
            "Publish N synthetic readings through spool, MQTT session and TLS; report messages/s, CPU, peak RSS, ack latency.",
        discussion: """
            Uses a fresh spool in spool.dir/bench-<pid> (removed afterwards) and the device's client id, \
            so a running agent with that id is taken over while it runs. --spool-only measures spool \
            appends with the configured spool.fsync, without a broker. Exits 0 when every reading was \
            acknowledged, 1 otherwise, 78 for config or usage errors.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "Readings to publish (after one warm-up reading).")
    var count: Int

    @Option(help: "MQTT QoS of the readings: 0, 1 or 2.")
    var qos: Int = 1

    @Option(help: "Payload bytes per reading (\(BenchPayload.minimumSize)...\(BenchPayload.maximumSize)).")
    var size: Int = 64

    @Option(help: "Seconds to wait for all acknowledgements before giving up.")
    var timeout: Int = 300

    @Flag(help: "Only append to the spool (with the configured spool.fsync); no broker.")
    var spoolOnly = false

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    mutating func validate() throws {
        guard (1...10_000_000).contains(count) else {
            throw ValidationError("--count \(count) is out of range; use 1 to 10000000")
        }
        guard (0...2).contains(qos) else {
            throw ValidationError("--qos \(qos) is not a QoS; use 0, 1 or 2")
        }
        guard (BenchPayload.minimumSize...BenchPayload.maximumSize).contains(size) else {
            throw ValidationError(
                "--size \(size) is out of range; use \(BenchPayload.minimumSize) to \(BenchPayload.maximumSize) bytes"
            )
        }
        guard (1...86_400).contains(timeout) else {
            throw ValidationError("--timeout \(timeout) is out of range; use 1 to 86400 seconds")
        }
    }

    func run() async throws {
        let configuration = try options.load()
        let level = options.logLevel == "info" ? Logger.Level.warning : options.level
        LogSetup.bootstrap(level: level)
        let request = BenchRequest(count: count, qos: qos, size: size, timeout: .seconds(timeout), spoolOnly: spoolOnly)
        let report: BenchReport
        do {
            report = try await BenchRun.run(
                configuration: configuration,
                request: request,
                logger: Logger(label: "pinpost")
            )
        } catch {
            FileOutput.standardError("pinpost: \(error)")
            throw ExitCode(error.exitCode.rawValue)
        }
        FileOutput.standardOutput(json ? report.json : report.text)
        if !report.complete {
            FileOutput.standardError(
                "pinpost: bench incomplete: \(report.acknowledged) of \(report.count) readings acknowledged (refused \(report.rejected), dropped \(report.dropped))"
            )
            throw ExitCode(1)
        }
    }
}
