/// Everything needed to claim one output line (a relay, a LED, a valve driver).
public struct OutputLineRequest: Sendable, Hashable {
    public var address: LineAddress
    /// The logical level the line is driven at from the moment it is claimed, so it never passes through
    /// another level first (active-low applied: `true` means "on").
    public var initialValue: Bool
    public var activeLow: Bool
    /// Shown by `gpioinfo` as the line's consumer.
    public var consumer: String

    public init(address: LineAddress, initialValue: Bool, activeLow: Bool = false, consumer: String = "pinpost") {
        self.address = address
        self.initialValue = initialValue
        self.activeLow = activeLow
        self.consumer = consumer
    }
}

/// A claimed output line. Released by `release()` or when the last reference goes away; the kernel then keeps
/// or drops the level as the driver does, which is why the agent drives its safe state before releasing.
public protocol GPIOOutputLine: Sendable {
    var request: OutputLineRequest { get }
    /// Drives the line to the logical `value` (active-low applied).
    func set(_ value: Bool) async throws(GPIOError)
    func release() async
}
