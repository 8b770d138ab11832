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
    @discardableResult
    static func run(
        _ executable: String,
        _ arguments: [String],
        timeout: Duration = .seconds(60)
    ) throws -> CommandResult {
        let outputFile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "pinpost-cmd-\(UUID().uuidString)"
        )
        defer { try? FileManager.default.removeItem(at: outputFile) }
        let child = try ChildProcess(executable, arguments, outputPath: outputFile.path)
        guard let status = child.wait(timeout: timeout) else {
            child.stop(signal: SIGKILL)
            throw HarnessError("\(executable) \(arguments.joined(separator: " ")) did not finish within \(timeout)")
        }
        let output = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
        return CommandResult(status: status, output: output)
    }

    /// Runs and requires exit status 0.
    @discardableResult
    static func check(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(60)) throws -> String {
        let result = try run(executable, arguments, timeout: timeout)
        guard result.status == 0 else {
            throw HarnessError(
                "\(executable) \(arguments.joined(separator: " ")) exited \(result.status): \(result.output)"
            )
        }
        return result.output
    }
}
