internal import GPIO
internal import Logging

/// `type = "poll"`: reads the line's value every `interval` (no edge detection; for inputs whose
/// edges do not matter, or chips without interrupts).
struct PollSensorRunner {
    let line: any GPIOInputLine
    let emit: SensorEmitter

    func run() async throws {
        let sensor = emit.sensor
        let interval = sensor.interval ?? .seconds(1)
        emit.logger.info(
            "polling sensor",
            metadata: [
                "sensor": "\(sensor.name)", "line": "\(line.request.address)",
                "interval": "\(DurationText.format(interval))",
            ]
        )
        // The simulated backend runs a line's waveform only while someone listens to its events;
        // a kernel line requested without edges ends this stream at once.
        let line = self.line
        let driver = Task { do { for try await _ in line.events() {} } catch {} }
        defer { driver.cancel() }
        let (wakes, stopWakes) = SensorWake.stream(interval: interval, readNow: emit.readNow)
        defer { stopWakes() }
        try emit(.digital(try await line.read()))
        // The stream ends when the task is cancelled (graceful shutdown).
        for await wake in wakes {
            switch wake {
            case .tick:
                try emit(.digital(try await line.read()))
            case .readNow(let request):
                do {
                    emit.answer(request, with: .digital(try await line.read()))
                } catch {
                    request.respond(.failure(SensorReadFailure(description: "\(error)")))
                }
            }
        }
    }
}
