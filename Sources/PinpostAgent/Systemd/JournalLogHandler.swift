public import Logging
internal import SystemExtras
internal import SystemPackage
public import Timestamps

/// A swift-log handler that writes one line per message to standard error, in the form the
/// systemd journal understands when the agent runs as a service, and readable text on a terminal.
///
/// Under systemd (`$JOURNAL_STREAM` names standard error's device and inode) each line starts with
/// an `sd-daemon(3)` priority prefix such as `<4>` for warnings, so `journalctl -p warning -u pinpost`
/// filters by level and the journal adds the time itself. Elsewhere the line starts with an
/// RFC 3339 UTC time and the level name.
///
/// It never writes secrets: metadata whose key names a secret (password, passphrase, secret,
/// token, private key, PIN) is replaced by `<redacted>`, and any PEM private key block that ends up
/// in a message or value is cut out. Control characters cannot forge extra entries: each line of a
/// multi-line message gets its own prefix in journal style.
public struct JournalLogHandler: LogHandler {
    /// How lines are written.
    public enum Style: Sendable, Hashable {
        /// `<N>label: message key=value`, N the syslog priority.
        case journal
        /// `2026-01-02T03:04:05.678Z warning label: message key=value`.
        case terminal
    }

    public let label: String
    public let style: Style
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let sink: @Sendable (String) -> Void

    /// - Parameters:
    ///   - style: defaults to ``detectStyle()`` for this process.
    ///   - sink: receives each finished line without a newline; defaults to an unbuffered write to
    ///     standard error (tests pass a collector).
    public init(
        label: String,
        style: Style = JournalLogHandler.detectStyle(),
        metadataProvider: Logger.MetadataProvider? = nil,
        sink: @escaping @Sendable (String) -> Void = JournalLogHandler.writeToStandardError
    ) {
        self.label = label
        self.style = style
        self.metadataProvider = metadataProvider
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        for line in render(level: event.level, message: event.message.description, metadata: merged, time: .now()) {
            sink(line)
        }
    }

    /// The lines for one message (more than one only for a multi-line message in journal style).
    public func render(level: Logger.Level, message: String, metadata: Logger.Metadata, time: UTCTime) -> [String] {
        var text = Self.redactPrivateKeys(message)
        let fields = metadata.keys.sorted().map { key in "\(key)=\(Self.value(of: key, metadata[key]!))" }
        if !fields.isEmpty { text += " " + fields.joined(separator: " ") }
        text = Self.replacingControlCharacters(text)
        switch style {
        case .journal:
            let prefix = "<\(Self.priority(level))>\(label): "
            return text.split(separator: "\n", omittingEmptySubsequences: false).map { prefix + $0 }
        case .terminal:
            return ["\(time.rfc3339) \(level) \(label): \(text)"]
        }
    }

    /// The syslog priority for a swift-log level (sd-daemon(3) prefixes: 2 crit … 7 debug).
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// Journal style when `$JOURNAL_STREAM` matches standard error, else terminal style.
    public static func detectStyle() -> Style {
        let environment = CurrentProcess.environment(["JOURNAL_STREAM"])
        guard let info = try? Stat(FileDescriptor.standardError) else { return .terminal }
        return style(
            journalStream: environment["JOURNAL_STREAM"],
            device: UInt64(info.deviceID.rawValue),
            inode: UInt64(info.inode.rawValue)
        )
    }

    /// `$JOURNAL_STREAM` is `DEVICE:INODE` of the stream systemd connected to stdout/stderr. Checking
    /// that it is still standard error (as systemd.exec(5) advises) avoids `<N>` prefixes when the
    /// agent inherited the variable but its stderr was redirected, e.g. `pinpost check 2>file` in a
    /// service's shell.
    public static func style(journalStream: String?, device: UInt64, inode: UInt64) -> Style {
        guard let journalStream else { return .terminal }
        let parts = journalStream.split(separator: ":")
        guard parts.count == 2, let streamDevice = UInt64(parts[0]), let streamInode = UInt64(parts[1]) else {
            return .terminal
        }
        return streamDevice == device && streamInode == inode ? .journal : .terminal
    }

    /// Writes `line` and a newline to file descriptor 2 in one `write` where possible, so lines from
    /// concurrent tasks do not interleave (swift-system's `writeAll` continues a short write).
    public static let writeToStandardError: @Sendable (String) -> Void = { line in
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        _ = try? FileDescriptor.standardError.writeAll(bytes)
    }

    // MARK: - Never secrets

    static let secretKeyParts = ["password", "passphrase", "secret", "token", "private", "credential"]

    /// A metadata key names a secret if it contains one of ``secretKeyParts`` or the word `pin`.
    static func isSecretKey(_ key: String) -> Bool {
        let lowered = key.lowercased()
        if secretKeyParts.contains(where: { lowered.contains($0) }) { return true }
        return lowered.split(whereSeparator: { !$0.isLetter }).contains("pin")
    }

    static func value(of key: String, _ value: Logger.Metadata.Value) -> String {
        if isSecretKey(key) { return "<redacted>" }
        return redactPrivateKeys(value.description)
    }

    /// Cuts every `-----BEGIN … PRIVATE KEY-----` … `-----END … PRIVATE KEY-----` block (or everything
    /// after an unterminated BEGIN).
    static func redactPrivateKeys(_ text: String) -> String {
        guard text.contains("PRIVATE KEY-----") else { return text }
        var result = ""
        var rest = Substring(text)
        while let begin = rest.firstRange(of: "-----BEGIN ") {
            let header = rest[begin.upperBound...]
            guard let headerEnd = header.firstRange(of: "-----"),
                header[..<headerEnd.lowerBound].hasSuffix("PRIVATE KEY")
            else {
                result += rest[..<begin.upperBound]
                rest = rest[begin.upperBound...]
                continue
            }
            result += rest[..<begin.lowerBound]
            result += "<redacted private key>"
            let body = header[headerEnd.upperBound...]
            if let end = body.firstRange(of: "-----END "), let close = body[end.upperBound...].firstRange(of: "-----") {
                rest = body[close.upperBound...]
            } else {
                rest = ""
            }
        }
        return result + rest
    }

    /// Keeps tabs and newlines (newlines are split into lines later); other control characters become `?`.
    static func replacingControlCharacters(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" && $0 != "\n" || $0.value == 0x7f })
        else { return text }
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let control = scalar.value < 0x20 && scalar != "\t" && scalar != "\n" || scalar.value == 0x7f
            scalars.append(control ? "?" : scalar)
        }
        return String(scalars)
    }
}
