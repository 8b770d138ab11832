/// Electrical bias requested for an input line.
public enum LineBias: String, Sendable, Hashable {
    case asIs = "as-is"
    case disabled
    case pullUp = "pull-up"
    case pullDown = "pull-down"
}

/// Everything needed to claim one input line.
public struct InputLineRequest: Sendable, Hashable {
    public var address: LineAddress
    public var edges: EdgeDetection
    public var bias: LineBias
    public var activeLow: Bool
    /// Shown by `gpioinfo` as the line's consumer, so people can see who holds it.
    public var consumer: String

    public init(
        address: LineAddress,
        edges: EdgeDetection = .both,
        bias: LineBias = .asIs,
        activeLow: Bool = false,
        consumer: String = "pinpost"
    ) {
        self.address = address
        self.edges = edges
        self.bias = bias
        self.activeLow = activeLow
        self.consumer = consumer
    }
}

/// A source of GPIO lines: the simulated backend on laptops and in CI, libgpiod on boards.
public protocol GPIOBackend: Sendable {
    /// Claims an input line, or throws `GPIOError` naming the line, the chip and what is wrong.
    func requestInput(_ request: InputLineRequest) async throws(GPIOError) -> any GPIOInputLine
    /// Claims an output line driven at `request.initialValue`, or throws `GPIOError` naming the line, the chip
    /// and what is wrong (the same rules as inputs: a line held by anyone else is busy).
    func requestOutput(_ request: OutputLineRequest) async throws(GPIOError) -> any GPIOOutputLine
}

/// A claimed input line. Released by `release()` or when the last reference goes away.
public protocol GPIOInputLine: Sendable {
    var request: InputLineRequest { get }
    /// The current logical value (active-low applied).
    func read() async throws(GPIOError) -> Bool
    /// Edge events in kernel order, until the line is released or the task is cancelled.
    func events() -> AsyncThrowingStream<LineEvent, any Error>
    func release() async
}
