internal import Glibc

/// Facts about this process and the way out of it, without Foundation's `ProcessInfo`.
public enum CurrentProcess {
    /// The process ID (getpid).
    public static var id: Int32 { getpid() }

    /// The effective user ID (geteuid): whose files the process may read and replace.
    public static var effectiveUserID: UInt32 { geteuid() }

    /// The running executable's path (`/proc/self/exe`), or nil when it cannot be read.
    public static var executablePath: String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer.prefix(count).map(UInt8.init(bitPattern:)), as: UTF8.self)
    }

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

    /// Ends the process at once with SIGKILL, as a power cut or the OOM killer would: nothing is flushed, no
    /// handler runs. For fault-injection hooks of debug builds only.
    public static func killImmediately() -> Never {
        Glibc.kill(getpid(), SIGKILL)
        Glibc._exit(137)
    }
}
