public import SystemExtras
internal import SystemPackage

/// The factory's `registry.csv`: one line per certificate issued (and per id registered for a claim), shared with
/// `pinpost-factory`, which takes the same lock (`registry.lock`) before it writes.
///
/// `device_id,serial,fingerprint_sha256,not_after,status,issued_at,flow`: status `active`, `revoked`, `claimable`
/// (registered, waiting for its claim) or `claimed`; flow `station`, `device`, `renewal`, `claim`, or
/// `claim:<claim CN>` for an identity a claim produced.
public struct Registry: Sendable {
    public struct Row: Sendable, Equatable {
        public var deviceID: String
        public var serial: String
        public var fingerprint: String
        public var notAfter: String
        public var status: String
        public var issuedAt: String
        public var flow: String

        public init(
            deviceID: String,
            serial: String,
            fingerprint: String,
            notAfter: String,
            status: String,
            issuedAt: String,
            flow: String
        ) {
            self.deviceID = deviceID
            self.serial = serial
            self.fingerprint = fingerprint
            self.notAfter = notAfter
            self.status = status
            self.issuedAt = issuedAt
            self.flow = flow
        }

        var line: String { [deviceID, serial, fingerprint, notAfter, status, issuedAt, flow].joined(separator: ",") }
    }

    public static let header = "device_id,serial,fingerprint_sha256,not_after,status,issued_at,flow"

    public let path: String
    var lockPath: String { FileSystem.directoryName(of: path) + "/registry.lock" }

    public init(path: String) {
        self.path = path
    }

    /// Every row (the header skipped; malformed lines too, they are not ours to judge).
    public func rows() throws(SystemError) -> [Row] {
        let text = String(decoding: try FileSystem.readFile(path, limit: 64 << 20), as: UTF8.self)
        return text.split(separator: "\n").dropFirst().compactMap { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 7 else { return nil }
            return Row(
                deviceID: fields[0],
                serial: fields[1],
                fingerprint: fields[2],
                notAfter: fields[3],
                status: fields[4],
                issuedAt: fields[5],
                flow: fields[6...].joined(separator: ",")
            )
        }
    }

    /// Reads, changes and rewrites the registry under its lock (atomically: a crash leaves the old or the new file).
    public func update<T>(_ change: (inout [Row]) throws -> T) throws -> T {
        let lock = try FileLock(path: lockPath, timeout: .seconds(120))
        defer { withExtendedLifetime(lock) {} }
        var rows = try self.rows()
        let result = try change(&rows)
        let text = ([Self.header] + rows.map(\.line)).joined(separator: "\n") + "\n"
        try FileSystem.writeFileAtomically(path, Array(text.utf8), permissions: [.ownerReadWrite, .groupRead])
        return result
    }
}
