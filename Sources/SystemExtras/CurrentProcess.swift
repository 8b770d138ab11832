internal import Glibc

/// Facts about this process and the way out of it, without Foundation's `ProcessInfo`.
public enum CurrentProcess {
    /// The process ID (getpid).
    public static var id: Int32 { getpid() }

    /// The effective user ID (geteuid): whose files the process may read and replace.
    public static var effectiveUserID: UInt32 { geteuid() }

    /// The values of the named environment variables that are set.
    public static func environment(_ names: [String]) -> [String: String] {
        var result: [String: String] = [:]
        for name in names {
            if let value = getenv(name) { result[name] = String(cString: value) }
        }
        return result
    }

    /// Ends the process with `code` (exit(3): atexit handlers run, stdio is flushed).
    public static func exit(_ code: Int32) -> Never {
        Glibc.exit(code)
    }
}
