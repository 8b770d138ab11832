internal import SystemPackage

/// Unbuffered line output, so `check` results appear as they are known even through a pipe.
public enum FileOutput {
    /// Standard error is where the CLI says what went wrong; under systemd (the journal reads standard error)
    /// each line gets the `<3>` priority prefix, so `journalctl -u pinpost -p err` shows why the agent exited
    /// 77 or 78, as the log handler's own lines do.
    private static let errorPrefix = JournalLogHandler.detectStyle() == .journal ? "<3>" : ""

    public static func standardError(_ text: String) {
        guard !errorPrefix.isEmpty else {
            write(text, to: .standardError)
            return
        }
        // journald reads line by line: every line needs the prefix.
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { errorPrefix + $0 }
        write(lines.joined(separator: "\n"), to: .standardError)
    }

    public static func standardOutput(_ line: String) {
        write(line, to: .standardOutput)
    }

    /// One line, written whole (swift-system's `writeAll` continues short writes); a closed stream loses it.
    private static func write(_ line: String, to descriptor: FileDescriptor) {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        _ = try? descriptor.writeAll(bytes)
    }
}
