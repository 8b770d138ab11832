import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs a program to completion with a time bound and returns its exit status and output.
struct CommandResult {
    var status: Int32
    var output: String
}

enum Command {
    /// Runs `executable` to its end, at most `timeout` (a failure bound; then it is killed with everything it
    /// started, and this throws).
    @discardableResult
    static func run(
        _ executable: String,
        _ arguments: [String],
        timeout: Duration = .seconds(60)
    ) async throws -> CommandResult {
        let outputFile = Self.outputFile()
        defer { try? FileManager.default.removeItem(at: outputFile) }
        let child = try ChildProcess(executable, arguments, outputPath: outputFile.path)
        guard let status = await child.waitForExit(timeout: timeout) else {
            child.kill()
            try Task.checkCancellation()
            throw HarnessError("\(executable) \(arguments.joined(separator: " ")) did not finish within \(timeout)")
        }
        return CommandResult(status: status, output: Self.read(outputFile))
    }

    /// Runs and requires exit status 0.
    @discardableResult
    static func check(
        _ executable: String,
        _ arguments: [String],
        timeout: Duration = .seconds(60)
    ) async throws -> String {
        try require(try await run(executable, arguments, timeout: timeout), executable, arguments)
    }

    private static func outputFile() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("pinpost-cmd-\(UUID().uuidString)")
    }

    private static func read(_ file: URL) -> String {
        (try? String(contentsOf: file, encoding: .utf8)) ?? ""
    }

    private static func require(_ result: CommandResult, _ executable: String, _ arguments: [String]) throws -> String {
        guard result.status == 0 else {
            throw HarnessError(
                "\(executable) \(arguments.joined(separator: " ")) exited \(result.status): \(result.output)"
            )
        }
        return result.output
    }
}
