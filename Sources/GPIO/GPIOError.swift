/// A GPIO failure that names the line and chip, with a code callers can decide on.
public struct GPIOError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong; stable for matching in code and tests.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// No GPIO chip by that name, path or label (or none at all).
        public static let noChip = Code("no such chip")
        /// No line with that offset or name.
        public static let noLine = Code("no such line")
        /// Another consumer holds the line.
        public static let busy = Code("line busy")
        /// The kernel refused the request for another reason (permissions, unsupported bias).
        public static let requestRefused = Code("request refused")
        /// The line was released (or never requested by a sensor).
        public static let notRequested = Code("not requested")
        /// Reading the line's value failed.
        public static let readFailed = Code("read failed")
        /// Watching or reading edge events failed.
        public static let eventsFailed = Code("edge events failed")
        /// Driving an output line failed.
        public static let writeFailed = Code("write failed")
    }

    public var code: Code
    /// Human-readable explanation, naming the line and chip and the fix.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
