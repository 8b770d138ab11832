internal import PinpostAgent
public import SystemExtras
internal import SystemPackage
internal import Timestamps

/// The responder's audit log: one JSON object per line, appended and synced before the answer leaves, for every
/// request signed or refused, every activation and every revocation.
///
/// `{"ts":"2026-12-06T10:00:00.123Z","event":"signed","device":"dev-0001","requester":"dev-0001","flow":"renewal",`
/// `"serial":"5A1F…","fingerprint":"9c…","not_after":"2027-03-06T10:00:00Z"}`; refusals carry `"code"` and
/// `"reason"`.
public struct AuditLog: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    public struct Entry: Sendable {
        public var event: String
        public var device: String
        public var fields: [(String, String?)]

        public init(event: String, device: String, _ fields: [(String, String?)] = []) {
            self.event = event
            self.device = device
            self.fields = fields
        }
    }

    public func append(_ entry: Entry) throws(SystemError) {
        let line =
            JSONValue.object(
                [("ts", UTCTime.now().rfc3339), ("event", entry.event), ("device", entry.device)] + entry.fields
            ) + "\n"
        let descriptor = try FileSystem.open(
            path,
            .writeOnly,
            options: [.create, .append],
            permissions: [.ownerReadWrite, .groupRead],
            operation: "cannot open the audit log"
        )
        defer { try? descriptor.close() }
        do {
            try descriptor.writeAll(Array(line.utf8))
            try descriptor.sync()
        } catch {
            throw SystemError((error as? Errno) ?? .ioError, "cannot write the audit log", path: path)
        }
    }
}
