internal import SystemExtras
internal import SystemPackage

/// Secrets must be private to the agent: readable by nobody else, replaceable by nobody else.
///
/// Applies to the device key, the token PIN file, the MQTT password file, and the config file itself
/// when it holds a secret (a `pin-value=` in a `pkcs11:` URI). "At least this strict" passes: 0400 and
/// 0600 both do, unlike agents that demand one exact mode. Refusal exits 77 (EX_NOPERM).
public enum KeyFilePolicy {
    /// Checks every secret the configuration names; returns what was checked, for `pinpost check`.
    @discardableResult
    public static func checkSecrets(_ configuration: AgentConfiguration) throws(AgentStartupError) -> [String] {
        var checked: [String] = []
        let key = configuration.tls.keyFile
        if key.hasPrefix("pkcs11:") || key.hasPrefix("handle:") {
            if key.contains("pin-value=") || (key.hasPrefix("handle:") && key.contains("?")) {
                try check(
                    secretFile: configuration.file,
                    field: "the config file (tls.key_file holds a PIN)",
                    fix:
                        "move the PIN out of tls.key_file into tls.pin_file (mode 0600), or chmod 600 '\(configuration.file)'"
                )
                checked.append(configuration.file)
            }
        } else {
            try check(keyFile: key)
            checked.append(key)
        }
        if let pinFile = configuration.tls.pinFile {
            try check(secretFile: pinFile, field: "tls.pin_file", fix: "chmod 600 '\(pinFile)' (0400 also works)")
            checked.append(pinFile)
        }
        if let passwordFile = configuration.broker.passwordFile {
            try check(
                secretFile: passwordFile,
                field: "broker.password_file",
                fix: "chmod 600 '\(passwordFile)' (0400 also works)"
            )
            _ = try readSecret(passwordFile, field: "broker.password_file")
            checked.append(passwordFile)
        }
        return checked
    }

    public static func check(keyFile path: String, field: String = "tls.key_file") throws(AgentStartupError) {
        try check(secretFile: path, field: field, fix: "chmod 600 '\(path)' (0400 also works)")
    }

    static func check(secretFile path: String, field: String, fix modeFix: String) throws(AgentStartupError) {
        let info: Stat
        do throws(Errno) {
            info = try Stat(FilePath(path))
        } catch {
            throw AgentStartupError(
                exitCode: .config,
                message: "\(field) '\(path)': \(error); fix: point \(field) at the existing file"
            )
        }
        let mode = info.permissions.rawValue & 0o777
        if mode & 0o077 != 0 {
            throw AgentStartupError(
                exitCode: .noPermission,
                message:
                    "\(field) '\(path)' has mode \(octal(mode)): group or others may access a secret; fix: \(modeFix)"
            )
        }
        let me = CurrentProcess.effectiveUserID
        let owner = info.userID.rawValue
        if owner != me && owner != 0 {
            throw AgentStartupError(
                exitCode: .noPermission,
                message:
                    "\(field) '\(path)' is owned by uid \(owner), not by the agent's user (uid \(me)) or root, so that user could change it; fix: chown the file to the user pinpost runs as (or root)"
            )
        }
        let folder = FileSystem.directoryName(of: path)
        if let folderMode = try? Stat(FilePath(folder)).permissions.rawValue,
            folderMode & 0o002 != 0, folderMode & 0o1000 == 0
        {
            throw AgentStartupError(
                exitCode: .noPermission,
                message:
                    "\(field) '\(path)' sits in '\(folder)', which any user may write (mode \(octal(folderMode))), so the file could be replaced; fix: chmod o-w '\(folder)' or move the file to /etc/pinpost"
            )
        }
    }

    /// Reads the first line of a secret file (already checked), without its line ending.
    static func readSecret(_ path: String, field: String) throws(AgentStartupError) -> String {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(path, limit: 4096)
        } catch {
            throw AgentStartupError(
                exitCode: .config,
                message: "\(field) '\(path)': \(error); fix: make the file readable by the agent's user"
            )
        }
        let line = bytes.prefix { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") }
        guard !line.isEmpty else {
            throw AgentStartupError(
                exitCode: .config,
                message: "\(field) '\(path)' is empty; fix: write the secret on the file's first line"
            )
        }
        return String(decoding: line, as: UTF8.self)
    }

    static func octal(_ mode: UInt32) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
