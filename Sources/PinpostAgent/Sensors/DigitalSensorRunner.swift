internal import GPIO
internal import Logging
internal import Timestamps

/// `type = "digital"`: a reading with the state at start, one per (debounced) change with the edge's
/// kernel timestamp, and, with `interval`, the current state every interval.
struct DigitalSensorRunner {
    let line: any GPIOInputLine
    let emit: SensorEmitter

    private enum Input: Sendable {
        case edge(LineEvent)
        case settle
        case tick
        case readNow(ReadNowRequest)
        case failed(any Error)
    }

    func run() async throws {
        let sensor = emit.sensor
        let initial = try await line.read()
        try emit(.digital(initial))
        emit.logger.info(
            "watching sensor",
            metadata: [
                "sensor": "\(sensor.name)", "type": "digital", "line": "\(line.request.address)",
                "value": "\(initial ? 1 : 0)",
            ]
        )

        var debouncer = Debouncer(
            initial: initial,
            period: sensor.debounce,
            rule: sensor.edges == .both ? .settle : .lockout
        )
        let (inputs, continuation) = AsyncStream<Input>.makeStream()
        let line = self.line
        let pump = Task {
            do {
                for try await event in line.events() { continuation.yield(.edge(event)) }
            } catch {
                continuation.yield(.failed(error))
            }
            continuation.finish()
        }
        let ticker: Task<Void, Never>? = sensor.interval.map { interval in
            Task {
                var ticker = Ticker(interval: interval)
                while (try? await ticker.wait()) != nil { continuation.yield(.tick) }
            }
        }
        let requests = Task { [readNow = emit.readNow] in
            for await request in readNow { continuation.yield(.readNow(request)) }
        }
        var settleTimer: Task<Void, Never>?
        defer {
            pump.cancel()
            ticker?.cancel()
            requests.cancel()
            settleTimer?.cancel()
        }
        func armSettleTimer() {
            settleTimer?.cancel()
            guard let deadline = debouncer.deadline else { return }
            let now = MonotonicInstant.now()
            let wait = deadline.nanoseconds > now.nanoseconds ? deadline.nanoseconds - now.nanoseconds : 0
            settleTimer = Task {
                guard (try? await Task.sleep(for: .nanoseconds(Int64(wait) + 1_000_000))) != nil else { return }
                continuation.yield(.settle)
            }
        }

        // AsyncStream's iterator ends when the task is cancelled (graceful shutdown).
        for await input in inputs {
            switch input {
            case .edge(let event):
                for change in debouncer.ingest(event) {
                    try emit(
                        .digital(change.value),
                        edge: change.edge,
                        at: WallClockMapping.wallTime(of: change.timestamp)
                    )
                }
                armSettleTimer()
            case .settle:
                if let change = debouncer.settle(now: .now()) {
                    try emit(
                        .digital(change.value),
                        edge: change.edge,
                        at: WallClockMapping.wallTime(of: change.timestamp)
                    )
                }
                armSettleTimer()
            case .tick:
                try emit(.digital(debouncer.stable))
            case .readNow(let request):
                emit.answer(request, with: .digital(debouncer.stable))
            case .failed(let error):
                throw error
            }
        }
    }
}
