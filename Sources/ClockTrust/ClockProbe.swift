/// What one source says about the wall clock.
public struct ClockReport: Sendable, Equatable, CustomStringConvertible {
    public var synchronized: Bool
    /// Where the verdict came from, e.g. `adjtimex`.
    public var source: String
    /// The source's error estimate, in milliseconds, when it has one.
    public var estimatedErrorMilliseconds: Double?
    public var detail: String

    public init(synchronized: Bool, source: String, estimatedErrorMilliseconds: Double?, detail: String) {
        self.synchronized = synchronized
        self.source = source
        self.estimatedErrorMilliseconds = estimatedErrorMilliseconds
        self.detail = detail
    }

    public var description: String {
        let state = synchronized ? "synchronized" : "not synchronized"
        let error = estimatedErrorMilliseconds.map { ", estimated error \($0) ms" } ?? ""
        return "\(state) (\(source): \(detail)\(error))"
    }
}

/// A source of truth about clock synchronization; a protocol so tests can script it.
public protocol ClockProbe: Sendable {
    func report() -> ClockReport
    /// Just the verdict; probes override it when they can answer without building a report.
    var isSynchronized: Bool { get }
}

extension ClockProbe {
    public var isSynchronized: Bool { report().synchronized }
}
