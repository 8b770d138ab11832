internal import Synchronization

/// A GPIO backend with no hardware: each line follows a waveform, and can be set by hand.
///
/// Stands in for libgpiod on laptops and in CI; it enforces the same rules a kernel chip does
/// (a line held by one consumer is busy for the next), so startup errors can be tried without a board.
public final class SimulatedGPIO: GPIOBackend {
    private let waveforms: [LineAddress: Waveform]
    private let claimed = Mutex<[LineAddress: String]>([:])
    private let lines = Mutex<[LineAddress: WeakLine]>([:])
    private let outputs = Mutex<[LineAddress: WeakOutput]>([:])

    private struct WeakLine {
        weak var line: SimulatedInputLine?
    }

    private struct WeakOutput {
        weak var line: SimulatedOutputLine?
    }

    /// - Parameter waveforms: what drives each line; a line without one stays low.
    public init(waveforms: [LineAddress: Waveform]) {
        self.waveforms = waveforms
    }

    public func requestInput(_ request: InputLineRequest) async throws(GPIOError) -> any GPIOInputLine {
        let address = request.address
        try claim(address, for: request.consumer)
        let line = SimulatedInputLine(
            request: request,
            waveform: waveforms[address] ?? .constant(false),
            onRelease: { [weak self] in
                self?.claimed.withLock { _ = $0.removeValue(forKey: address) }
                self?.lines.withLock { _ = $0.removeValue(forKey: address) }
            }
        )
        lines.withLock { $0[address] = WeakLine(line: line) }
        return line
    }

    public func requestOutput(_ request: OutputLineRequest) async throws(GPIOError) -> any GPIOOutputLine {
        let address = request.address
        try claim(address, for: request.consumer)
        let line = SimulatedOutputLine(
            request: request,
            onRelease: { [weak self] in
                self?.claimed.withLock { _ = $0.removeValue(forKey: address) }
                self?.outputs.withLock { _ = $0.removeValue(forKey: address) }
            }
        )
        outputs.withLock { $0[address] = WeakOutput(line: line) }
        return line
    }

    /// The state of a claimed output line (its level and how often it changed), for `pinpost sim show` and tests;
    /// nil when no output holds the line.
    public func outputState(_ address: LineAddress) -> SimulatedOutputState? {
        outputs.withLock { $0[address]?.line }?.snapshot
    }

    /// Marks `address` as held by `consumer`, or throws `busy` naming the holder, as a kernel chip does.
    private func claim(_ address: LineAddress, for consumer: String) throws(GPIOError) {
        let holder: String? = claimed.withLock { claimed in
            if let holder = claimed[address] { return holder }
            claimed[address] = consumer
            return nil
        }
        if let holder {
            throw GPIOError(
                .busy,
                "\(address) is busy: already requested by consumer '\(holder)'; fix: stop the other program or choose another line"
            )
        }
    }

    /// Drives a claimed line to `value` now, as a person pressing a button would (the live control
    /// behind `pinpost sim set`); an edge is emitted if the value changed. `value` is the logical
    /// value (what the reading will carry), so `1` means "active" whatever `active_low` says.
    public func set(_ address: LineAddress, to value: Bool) throws(GPIOError) {
        guard let line = lines.withLock({ $0[address]?.line }) else {
            throw GPIOError(.notRequested, "\(address) is not requested by any sensor; fix: name a configured sensor")
        }
        line.set(value)
    }
}

/// One simulated input line. Its waveform runs only while someone listens to `events()`.
final class SimulatedInputLine: GPIOInputLine {
    let request: InputLineRequest
    let waveform: Waveform
    private let state: Mutex<State>
    private let onRelease: @Sendable () -> Void

    private struct State {
        var value: Bool
        var released = false
        var listeners: [Int: AsyncThrowingStream<LineEvent, any Error>.Continuation] = [:]
        var nextListener = 0
    }

    init(request: InputLineRequest, waveform: Waveform, onRelease: @escaping @Sendable () -> Void) {
        self.request = request
        self.waveform = waveform
        self.state = Mutex(State(value: waveform.initialValue))
        self.onRelease = onRelease
    }

    func read() async throws(GPIOError) -> Bool {
        try state.withLock { state throws(GPIOError) in
            guard !state.released else { throw GPIOError(.notRequested, "\(request.address) was released") }
            return state.value
        }
    }

    /// Drives the line to `value` now, as a person pressing a button would; emits an edge if it changed.
    func set(_ value: Bool) {
        let event = LineEvent(edge: value ? .rising : .falling, timestamp: .now())
        let listeners: [AsyncThrowingStream<LineEvent, any Error>.Continuation] = state.withLock { state in
            guard !state.released, state.value != value else { return [] }
            state.value = value
            return Array(state.listeners.values)
        }
        guard wants(event.edge) else { return }
        for listener in listeners {
            listener.yield(event)
        }
    }

    func events() -> AsyncThrowingStream<LineEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<LineEvent, any Error>.makeStream()
        let id: Int? = state.withLock { state in
            guard !state.released else { return nil }
            let id = state.nextListener
            state.nextListener += 1
            state.listeners[id] = continuation
            return id
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        let driver = Task { [weak self, waveform] in
            var generator = SystemRandomNumberGenerator()
            while !Task.isCancelled {
                guard let delay = waveform.delayUntilNextFlip(uniform: Double.random(in: 0..<1, using: &generator))
                else { return }
                do { try await Task.sleep(for: delay) } catch { return }
                guard let self else { return }
                let current = (try? await self.read()) ?? false
                self.set(!current)
            }
        }
        continuation.onTermination = { [weak self] _ in
            driver.cancel()
            self?.state.withLock { _ = $0.listeners.removeValue(forKey: id) }
        }
        return stream
    }

    func release() async {
        let listeners: [AsyncThrowingStream<LineEvent, any Error>.Continuation] = state.withLock { state in
            guard !state.released else { return [] }
            state.released = true
            defer { state.listeners.removeAll() }
            return Array(state.listeners.values)
        }
        for listener in listeners {
            listener.finish()
        }
        onRelease()
    }

    private func wants(_ edge: Edge) -> Bool {
        switch request.edges {
        case .none: false
        case .both: true
        case .rising: edge == .rising
        case .falling: edge == .falling
        }
    }

    deinit {
        if !state.withLock({ $0.released }) {
            onRelease()
        }
    }
}
