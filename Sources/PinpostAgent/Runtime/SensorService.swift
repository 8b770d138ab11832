public import GPIO
public import Logging
public import ServiceLifecycle
internal import Timestamps

/// Claims every configured line, publishes each line's state at start and a reading per edge.
///
/// On graceful shutdown it stops taking readings first (it is the last service in the group, so it
/// is shut down first), which lets the publisher flush everything that was taken.
public struct SensorService: Service {
    let sensors: [AgentConfiguration.Sensor]
    let backend: any GPIOBackend
    let recorder: ReadingRecorder
    let clockProbe: any ClockProbe
    let logger: Logger

    public init(sensors: [AgentConfiguration.Sensor], backend: any GPIOBackend, recorder: ReadingRecorder, clockProbe: any ClockProbe, logger: Logger) {
        self.sensors = sensors
        self.backend = backend
        self.recorder = recorder
        self.clockProbe = clockProbe
        self.logger = logger
    }

    public func run() async throws {
        defer { recorder.finish() }
        var lines: [(AgentConfiguration.Sensor, any GPIOInputLine)] = []
        do {
            for sensor in sensors {
                let request = InputLineRequest(address: sensor.address, edges: sensor.edges, bias: sensor.bias, activeLow: sensor.activeLow)
                let line = try await backend.requestInput(request)
                lines.append((sensor, line))
            }
        } catch {
            for (_, line) in lines { await line.release() }
            throw SensorStartupError(message: "sensor startup failed: \(error)")
        }

        try await withThrowingDiscardingTaskGroup { group in
            for (sensor, line) in lines {
                group.addTask {
                    defer { Task { await line.release() } }
                    try await watch(sensor: sensor, line: line)
                }
            }
        }
    }

    private func watch(sensor: AgentConfiguration.Sensor, line: any GPIOInputLine) async throws {
        // Start with the current state so a subscriber knows it without waiting for an edge.
        let initial = try await line.read()
        record(sensor, value: initial, edge: nil, at: UTCTime.now())
        logger.info("watching sensor", metadata: ["sensor": "\(sensor.name)", "line": "\(sensor.address)", "value": "\(initial ? 1 : 0)"])
        for try await event in line.events().cancelOnGracefulShutdown() {
            record(sensor, value: event.value, edge: event.edge.rawValue, at: wallTime(of: event.timestamp))
        }
    }

    private func record(_ sensor: AgentConfiguration.Sensor, value: Bool, edge: String?, at time: UTCTime) {
        let outcome = recorder.record(
            sensor: sensor.name,
            value: .digital(value),
            edge: edge,
            takenAt: time,
            clockSynchronized: clockProbe.report().synchronized,
            qos: sensor.qos
        )
        switch outcome {
        case .stored(let seq):
            logger.debug("reading", metadata: ["sensor": "\(sensor.name)", "seq": "\(seq)", "value": "\(value ? 1 : 0)"])
        case .dropped(let seq, let reason):
            logger.warning("reading dropped", metadata: ["sensor": "\(sensor.name)", "seq": "\(seq)", "reason": "\(reason)"])
        }
    }

    /// Maps a kernel monotonic timestamp to wall time by the current offset between the two clocks.
    private func wallTime(of timestamp: MonotonicInstant) -> UTCTime {
        let wall = UTCTime.now()
        let monotonic = MonotonicInstant.now()
        let ageMilliseconds = monotonic.nanoseconds >= timestamp.nanoseconds
            ? Int64((monotonic.nanoseconds - timestamp.nanoseconds) / 1_000_000) : 0
        return UTCTime(epochMilliseconds: wall.epochMilliseconds - ageMilliseconds)
    }
}

/// A line could not be claimed or read; names the sensor and line.
public struct SensorStartupError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
