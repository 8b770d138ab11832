public import SystemExtras

/// A failure of the agent's on-disk state, naming the file and the fix.
public struct SpoolError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What failed; stable for matching in code and tests.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// spool.dir (or its `spool` folder) cannot be created or opened.
        public static let folderUnusable = Code("spool folder unusable")
        /// A segment cannot be opened or read back at start-up.
        public static let segmentUnreadable = Code("segment unreadable")
        /// A torn or damaged tail cannot be cut off.
        public static let repairFailed = Code("repair failed")
        /// No new segment can be created.
        public static let segmentNotCreated = Code("segment not created")
        /// Appended records cannot be made durable (fdatasync).
        public static let syncFailed = Code("sync failed")
        /// The acknowledgement state cannot be saved.
        public static let acknowledgementsNotSaved = Code("acknowledgements not saved")
        /// The seq counter's state (`spool/seq`) cannot be saved.
        public static let counterNotSaved = Code("seq counter not saved")
    }

    public var code: Code
    /// The system call that failed, with its errno, when one did.
    public var cause: SystemError?
    /// Human-readable explanation, including the fix.
    public var message: String

    init(_ code: Code, cause: SystemError?, message: String) {
        self.code = code
        self.cause = cause
        self.message = message
    }

    /// The file system has no room left (from the errno, never from the text).
    public var isDiskFull: Bool { cause?.isDiskFull ?? false }

    public var description: String { message }
}
