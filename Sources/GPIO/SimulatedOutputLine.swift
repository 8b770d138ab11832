internal import Synchronization

/// One simulated output line: it remembers its level and how often it changed, which is what tests and
/// `pinpost sim show` look at (a relay's click count, in effect).
final class SimulatedOutputLine: GPIOOutputLine {
    let request: OutputLineRequest
    private let state: Mutex<State>
    private let onRelease: @Sendable () -> Void

    private struct State {
        var value: Bool
        var transitions = 0
        var released = false
    }

    init(request: OutputLineRequest, onRelease: @escaping @Sendable () -> Void) {
        self.request = request
        self.state = Mutex(State(value: request.initialValue))
        self.onRelease = onRelease
    }

    func set(_ value: Bool) async throws(GPIOError) {
        try state.withLock { state throws(GPIOError) in
            guard !state.released else { throw GPIOError(.notRequested, "\(request.address) was released") }
            if state.value != value {
                state.value = value
                state.transitions += 1
            }
        }
    }

    /// The logical level and the number of level changes since the line was claimed.
    var snapshot: SimulatedOutputState {
        state.withLock { SimulatedOutputState(value: $0.value, transitions: $0.transitions) }
    }

    func release() async {
        let first = state.withLock { state -> Bool in
            defer { state.released = true }
            return !state.released
        }
        if first { onRelease() }
    }

    deinit {
        if !state.withLock({ $0.released }) {
            onRelease()
        }
    }
}

/// What a simulated output line shows: its logical level and how many times it changed since it was claimed.
public struct SimulatedOutputState: Sendable, Equatable {
    public var value: Bool
    public var transitions: Int

    public init(value: Bool, transitions: Int) {
        self.value = value
        self.transitions = transitions
    }
}
