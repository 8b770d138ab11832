internal import SystemExtras

/// The few sysfs operations the sensor kinds need: read a small attribute, list a folder.
///
/// Everything is relative to a configurable root (`gpio.sysfs_root`), so tests run against fake trees.
struct SysfsFiles: Sendable {
    var root: String

    func path(_ relative: String) -> String {
        root.hasSuffix("/") ? root + relative : root + "/" + relative
    }

    func exists(_ relative: String) -> Bool {
        FileSystem.exists(path(relative))
    }

    /// The attribute's text, or a `SensorReadError` naming the file.
    func read(_ relative: String) throws(SensorReadError) -> String {
        let full = path(relative)
        do {
            return String(decoding: try FileSystem.readFile(full, limit: 64 << 10), as: UTF8.self)
        } catch {
            throw SensorReadError(.unreadable, "cannot read \(full): \(error)")
        }
    }

    /// Entry names in a folder (sorted), or nil if it cannot be opened.
    func list(_ relative: String) -> [String]? {
        (try? FileSystem.contentsOfDirectory(path(relative)))?.sorted()
    }
}

/// A sensor could not be read this time; the message names the file or device and the fix.
public struct SensorReadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong; stable for matching in code and tests.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The configured device or channel is not there.
        public static let notFound = Code("not found")
        /// The attribute file could not be read (the errno is in the message).
        public static let unreadable = Code("unreadable")
        /// The file's content is not what the driver writes (empty, not a number, no `t=`).
        public static let malformed = Code("malformed")
        /// The sensor's own checksum failed (DS18B20 CRC): this reading is skipped.
        public static let checksumFailed = Code("checksum failed")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
