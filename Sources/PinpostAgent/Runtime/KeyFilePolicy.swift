#if canImport(Glibc)
internal import Glibc
#endif

/// The device key must be private to the agent: readable by nobody else, replaceable by nobody else.
///
/// "At least this strict" passes: 0400 and 0600 both do. Refusal exits 77 (EX_NOPERM).
public enum KeyFilePolicy {
    public static func check(keyFile path: String, field: String = "tls.key_file") throws(AgentStartupError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            throw AgentStartupError(exitCode: .config, message: "\(field) '\(path)': \(reason); fix: point \(field) at the device's private key")
        }
        let mode = info.st_mode & 0o777
        if mode & 0o077 != 0 {
            throw AgentStartupError(
                exitCode: .noPermission,
                message: "\(field) '\(path)' has mode \(octal(mode)): group or others may access the private key; fix: chmod 600 '\(path)' (0400 also works)"
            )
        }
        let me = geteuid()
        if info.st_uid != me && info.st_uid != 0 {
            throw AgentStartupError(
                exitCode: .noPermission,
                message: "\(field) '\(path)' is owned by uid \(info.st_uid), not by the agent's user (uid \(me)) or root; fix: chown the key to the user pinpost runs as"
            )
        }
        let folder = path.lastIndex(of: "/").map { String(path[..<$0]) }.flatMap { $0.isEmpty ? "/" : $0 } ?? "."
        var folderInfo = stat()
        if stat(folder, &folderInfo) == 0, folderInfo.st_mode & 0o002 != 0, folderInfo.st_mode & 0o1000 == 0 {
            throw AgentStartupError(
                exitCode: .noPermission,
                message: "\(field) '\(path)' sits in '\(folder)', which any user may write (mode \(octal(folderInfo.st_mode & 0o7777))), so the key could be replaced; fix: chmod o-w '\(folder)' or move the key to /etc/pinpost"
            )
        }
    }

    static func octal(_ mode: mode_t) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
