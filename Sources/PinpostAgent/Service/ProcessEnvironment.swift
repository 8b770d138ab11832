#if canImport(Glibc)
internal import Glibc
#endif

/// Reads a few environment variables without Foundation, so the runtime helpers that only need
/// `$NOTIFY_SOCKET`, `$WATCHDOG_USEC` or `$JOURNAL_STREAM` do not pull it in.
enum ProcessEnvironment {
    static func values(_ names: [String]) -> [String: String] {
        var result: [String: String] = [:]
        for name in names {
            if let value = getenv(name) { result[name] = String(cString: value) }
        }
        return result
    }
}
