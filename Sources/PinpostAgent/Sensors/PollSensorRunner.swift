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
        var ticker = Ticker(interval: interval)
        while true {
            try emit(.digital(try await line.read()))
            do { try await ticker.wait() } catch { return }
        }
    }
}
