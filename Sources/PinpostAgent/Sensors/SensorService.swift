public import ClockTrust
internal import DurableSpool
public import GPIO
public import Logging
public import ServiceLifecycle
internal import Timestamps

/// Claims every configured line, checks every sysfs sensor, then runs one runner per sensor kind:
/// digital edges, counters, polled lines, DS18B20 and IIO measurements (see `Sensors/`). With the
/// simulated backend it also serves the simulator's live control socket (`pinpost sim set`).
///
/// On graceful shutdown it stops taking readings first (it is the last service in the group, so it
/// is shut down first), which lets the publisher flush everything that was taken.
public struct SensorService: Service {
    let sensors: [AgentConfiguration.Sensor]
    let backend: any GPIOBackend
    let recorder: ReadingRecorder
    let clockProbe: any ClockProbe
    let logger: Logger
    let settings: AgentConfiguration.GPIOSettings
    /// Where commands ask for a reading now (`read_sensor`).
    let triggers: SensorTriggers?
    /// The outputs held now, for the simulator's `pinpost sim show`.
    let outputs: @Sendable () -> [(name: String, address: LineAddress)]

    public init(
        sensors: [AgentConfiguration.Sensor],
        backend: any GPIOBackend,
        recorder: ReadingRecorder,
        clockProbe: any ClockProbe,
        logger: Logger,
        settings: AgentConfiguration.GPIOSettings = AgentConfiguration.GPIOSettings(),
        triggers: SensorTriggers? = nil,
        outputs: @escaping @Sendable () -> [(name: String, address: LineAddress)] = { [] }
    ) {
        self.triggers = triggers
        self.outputs = outputs
        self.sensors = sensors
        self.backend = backend
        self.recorder = recorder
        self.clockProbe = clockProbe
        self.logger = logger
        self.settings = settings
    }

    private enum Runner: Sendable {
        case digital(DigitalSensorRunner)
        case counter(CounterSensorRunner)
        case poll(PollSensorRunner)
        case sysfs(SysfsSensorRunner)

        func run() async throws {
            switch self {
            case .digital(let runner): try await runner.run()
            case .counter(let runner): try await runner.run()
            case .poll(let runner): try await runner.run()
            case .sysfs(let runner): try await runner.run()
            }
        }
    }

    public func run() async throws {
        defer {
            triggers?.finish()
            recorder.finish()
        }
        let simulated = backend as? SimulatedGPIO
        var lines: [any GPIOInputLine] = []
        var runners: [Runner] = []
        do {
            for sensor in sensors {
                let emit = emitter(for: sensor)
                if let address = sensor.address {
                    let request = InputLineRequest(
                        address: address,
                        edges: sensor.edges,
                        bias: sensor.bias,
                        activeLow: sensor.activeLow
                    )
                    let line: any GPIOInputLine
                    do {
                        line = try await backend.requestInput(request)
                    } catch {
                        throw SensorStartupError(code: .lineUnavailable, message: "sensor '\(sensor.name)': \(error)")
                    }
                    lines.append(line)
                    switch sensor.kind {
                    case .counter: runners.append(.counter(CounterSensorRunner(line: line, emit: emit)))
                    case .poll: runners.append(.poll(PollSensorRunner(line: line, emit: emit)))
                    default: runners.append(.digital(DigitalSensorRunner(line: line, emit: emit)))
                    }
                } else {
                    do {
                        let source = try SysfsSensorRunner.prepare(
                            sensor,
                            settings: settings,
                            simulated: simulated != nil
                        )
                        runners.append(.sysfs(SysfsSensorRunner(source: source, emit: emit)))
                    } catch {
                        throw SensorStartupError(
                            code: .sensorUnavailable,
                            message: "sensor '\(sensor.name)': \(error)"
                        )
                    }
                }
            }
        } catch let error as SensorStartupError {
            for line in lines { await line.release() }
            throw SensorStartupError(code: error.code, message: "sensor startup failed: \(error.message)")
        }

        let started = runners
        let control = simulated.map {
            SimulatorControl(path: settings.simSocket, backend: $0, sensors: sensors, outputs: outputs, logger: logger)
        }
        do {
            try await cancelWhenGracefulShutdown {
                try await withThrowingDiscardingTaskGroup { group in
                    for runner in started {
                        group.addTask { try await runner.run() }
                    }
                    if let control {
                        group.addTask {
                            do {
                                try await control.run()
                            } catch {
                                logger.warning(
                                    "simulator control unavailable",
                                    metadata: ["socket": "\(settings.simSocket)", "reason": "\(error)"]
                                )
                            }
                        }
                    }
                }
            }
        } catch is CancellationError {
            // graceful shutdown
        }
        for line in lines { await line.release() }
    }

    private func emitter(for sensor: AgentConfiguration.Sensor) -> SensorEmitter {
        let recorder = recorder
        let clockProbe = clockProbe
        let logger = logger
        var emitter = SensorEmitter(sensor: sensor, logger: logger) { value, edge, time in
            let outcome = recorder.record(
                sensor: sensor.name,
                value: value,
                edge: edge?.rawValue,
                takenAt: time,
                clockSynchronized: clockProbe.isSynchronized,
                qos: sensor.qos
            )
            switch outcome {
            case .stored(let seq):
                logger.debug("reading", metadata: ["sensor": "\(sensor.name)", "seq": "\(seq)", "value": "\(value)"])
            case .dropped(let seq, let reason):
                logger.warning(
                    "reading dropped",
                    metadata: ["sensor": "\(sensor.name)", "seq": "\(seq)", "reason": "\(reason)"]
                )
            }
            return outcome
        }
        if let triggers { emitter.readNow = triggers.requests(for: sensor.name) }
        return emitter
    }
}

/// A line could not be claimed or read; names the sensor and line.
public struct SensorStartupError: Error, Sendable, CustomStringConvertible {
    /// What could not be started; stable for matching in code and tests.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// A GPIO line could not be claimed (the GPIOError's code says why).
        public static let lineUnavailable = Code("line unavailable")
        /// A sysfs sensor (DS18B20, IIO) could not be found or read.
        public static let sensorUnavailable = Code("sensor unavailable")
    }

    public var code: Code
    public var message: String
    public var description: String { message }
}
