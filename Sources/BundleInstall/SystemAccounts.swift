internal import SystemExtras

/// User and group ids as the board (or the image below `--root`) knows them: read from its own
/// `etc/passwd` and `etc/group`, not from the machine running the installer.
public struct SystemAccounts: Sendable, Equatable {
    public var userID: UInt32
    public var groupID: UInt32

    /// Resolves `user` and `group` (names, or numbers taken as they are) under `root`.
    public init(user: String, group: String, root: String) throws(BundleInstallError) {
        userID = try Self.resolve(user, in: FileSystem.absolute("etc/passwd", relativeTo: root))
        groupID = try Self.resolve(group, in: FileSystem.absolute("etc/group", relativeTo: root))
    }

    private static func resolve(_ name: String, in file: String) throws(BundleInstallError) -> UInt32 {
        if let number = UInt32(name) { return number }
        let text = (try? FileSystem.readFile(file, limit: 4 << 20)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            if fields.count > 2, fields[0] == name, let id = UInt32(fields[2]) { return id }
        }
        throw BundleInstallError(
            .accountMissing,
            "'\(name)' is not in \(file); install the pinpost package first (it creates the user and group), or pass --owner/--group"
        )
    }
}
