public import SystemPackage

/// A failed system call, with what was being done and to which file or socket, e.g.
/// `cannot open '/etc/pinpost/device.key': Permission denied`.
///
/// The code is the call's errno, so callers decide on it (disk full, file missing) and never on the text.
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: Errno
    /// What was being done, e.g. `cannot open` or `cannot sync`.
    public var operation: String
    /// The file, folder or socket concerned; empty when there is none.
    public var path: String

    public init(_ code: Errno, _ operation: String, path: String = "") {
        self.code = code
        self.operation = operation
        self.path = path
    }

    /// The file system (or the user's quota on it) has no room left: ENOSPC or EDQUOT.
    public var isDiskFull: Bool { code == .noSpace || code == .diskQuotaExceeded }

    /// The file or folder does not exist: ENOENT.
    public var isNotFound: Bool { code == .noSuchFileOrDirectory }

    public var description: String {
        path.isEmpty ? "\(operation): \(code)" : "\(operation) '\(path)': \(code)"
    }
}

extension Errno {
    /// swift-system's calls are declared `throws` but only ever throw `Errno`.
    static func of(_ error: any Error) -> Errno {
        error as? Errno ?? .ioError
    }
}

extension Result where Failure == Errno {
    /// The value, or a `SystemError` saying what failed on which path.
    func orThrow(_ operation: String, path: String = "") throws(SystemError) -> Success {
        switch self {
        case .success(let value): return value
        case .failure(let code): throw SystemError(code, operation, path: path)
        }
    }
}
