internal import GPIO
internal import Logging
internal import Timestamps

/// `type = "counter"`: counts edges (default rising) and publishes every `interval` the pulses in
/// the interval (`value`), the total since start (`count`) and pulses per second (`rate`).
/// `debounce` drops an edge that follows the last counted one within the period.
struct CounterSensorRunner {
    let line: any GPIOInputLine
    let emit: SensorEmitter

    private enum Input: Sendable {
        case edge(LineEvent)
        case tick
        case readNow(ReadNowRequest)
        case failed(any Error)
    }

    func run() async throws {
        let sensor = emit.sensor
        let interval = sensor.interval ?? .seconds(10)
        emit.logger.info(
            "counting pulses",
            metadata: [
                "sensor": "\(sensor.name)", "line": "\(line.request.address)",
                "interval": "\(DurationText.format(interval))",
            ]
        )
        var counter = PulseCounter(start: .now())
        var debouncer = Debouncer(initial: false, period: sensor.debounce, rule: .lockout)
        let (inputs, continuation) = AsyncStream<Input>.makeStream()
        let line = self.line
        let pump = Task {
            do {
                for try await event in line.events() { continuation.yield(.edge(event)) }
            } catch {
                continuation.yield(.failed(error))
            }
        }
        let ticker = Task {
            var ticker = Ticker(interval: interval)
            while (try? await ticker.wait()) != nil { continuation.yield(.tick) }
        }
        let requests = Task { [readNow = emit.readNow] in
            for await request in readNow { continuation.yield(.readNow(request)) }
        }
        defer {
            pump.cancel()
            ticker.cancel()
            requests.cancel()
        }
        for await input in inputs {
            switch input {
            case .edge(let event):
                if !debouncer.ingest(event).isEmpty { counter.count() }
            case .tick:
                let sample = counter.sample(at: .now())
                try emit(.pulses(sample.pulses, total: sample.total, rate: sample.rate, unit: nil))
            case .readNow(let request):
                // Closes the interval now: the reading counts the pulses since the previous one.
                let sample = counter.sample(at: .now())
                emit.answer(request, with: .pulses(sample.pulses, total: sample.total, rate: sample.rate, unit: nil))
            case .failed(let error):
                throw error
            }
        }
    }
}
