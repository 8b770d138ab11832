internal import PinpostAgent

/// What `pinpost bench` was asked to do.
public struct BenchRequest: Sendable, Equatable {
    /// Readings to publish (or append, in spool mode), not counting the one warm-up reading.
    public var count: Int
    public var qos: Int
    /// Payload bytes per reading (see `BenchPayload`).
    public var size: Int
    /// Gives up waiting for acknowledgements after this long; the report then says how many came.
    public var timeout: Duration
    /// Only append to the spool with its fsync policy: no broker, no TLS.
    public var spoolOnly: Bool

    public init(count: Int, qos: Int, size: Int, timeout: Duration = .seconds(300), spoolOnly: Bool = false) {
        self.count = count
        self.qos = qos
        self.size = size
        self.timeout = timeout
        self.spoolOnly = spoolOnly
    }
}
