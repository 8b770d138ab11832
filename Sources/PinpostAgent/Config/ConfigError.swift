/// A configuration problem, always naming the file, the key and the fix.
///
/// `pinpost` exits 78 (EX_CONFIG) on this error.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// Dotted key path, e.g. `broker.port` or `sensor[2].line`; empty for whole-file problems.
    public var key: String
    public var problem: String
    public var fix: String

    public init(file: String, key: String, problem: String, fix: String) {
        self.file = file
        self.key = key
        self.problem = problem
        self.fix = fix
    }

    public var description: String {
        let location = key.isEmpty ? file : "\(file): \(key)"
        return "\(location): \(problem); fix: \(fix)"
    }
}
