/// Where an AF_UNIX socket lives: a path in the file system, or a Linux abstract name.
public enum UnixSocketAddress: Sendable, Hashable, CustomStringConvertible {
    /// A socket file, e.g. `/run/systemd/notify`.
    case path(String)
    /// A Linux abstract socket (written `@name` in `$NOTIFY_SOCKET`), without the `@`.
    case abstract(String)

    /// Bytes `sun_path` holds (108 on Linux), including a path's terminating NUL or an abstract name's leading one.
    public static let maximumPathBytes = 108

    /// Whether the name fits in `sun_path`.
    public var fits: Bool {
        switch self {
        case .path(let path): path.utf8.count < Self.maximumPathBytes
        case .abstract(let name): 1 + name.utf8.count <= Self.maximumPathBytes
        }
    }

    public var description: String {
        switch self {
        case .path(let path): path
        case .abstract(let name): "@" + name
        }
    }
}
