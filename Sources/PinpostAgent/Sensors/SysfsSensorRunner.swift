internal import GPIO
internal import Logging

/// `type = "ds18b20"` and `type = "iio"`: a measurement with its unit every `interval`.
///
/// A failed read (CRC mismatch, empty conversion, a vanished device) is logged and skipped, and
/// the next interval tries again: one bad 1-Wire transfer must not stop the agent.
struct SysfsSensorRunner {
    enum Source: Sendable {
        case ds18b20(files: SysfsFiles, id: String)
        case iio(files: SysfsFiles, device: String, channel: String)
        case simulated(Waveform)
    }

    let source: Source
    let emit: SensorEmitter

    /// Checks that the device is there now, so a missing sensor is a startup error.
    static func prepare(
        _ sensor: AgentConfiguration.Sensor,
        settings: AgentConfiguration.GPIOSettings,
        simulated: Bool
    ) throws(SensorReadError) -> Source {
        if simulated, let waveform = sensor.simulate {
            return .simulated(waveform)
        }
        let files = SysfsFiles(root: settings.sysfsRoot)
        switch sensor.kind {
        case .ds18b20:
            return .ds18b20(files: files, id: try DS18B20(files: files, device: sensor.device).id)
        default:
            let device = sensor.device ?? ""
            let channel = sensor.channel ?? ""
            _ = try IIOChannel(files: files, device: device, channel: channel, unit: sensor.unit)
            return .iio(files: files, device: device, channel: channel)
        }
    }

    func run() async throws {
        let sensor = emit.sensor
        let interval = sensor.interval ?? .seconds(30)
        let start = ContinuousClock.now
        let read: () throws(SensorReadError) -> (Double, String?)
        switch source {
        case .ds18b20(let files, let id):
            let thermometer = try DS18B20(files: files, device: id)
            read = { () throws(SensorReadError) in (try thermometer.read(), sensor.unit ?? "°C") }
        case .iio(let files, let device, let channel):
            let iio = try IIOChannel(files: files, device: device, channel: channel, unit: sensor.unit)
            read = { () throws(SensorReadError) in (try iio.read(), iio.unit) }
        case .simulated(let waveform):
            let unit = sensor.unit ?? (sensor.kind == .ds18b20 ? "°C" : nil)
            read = { () throws(SensorReadError) in (waveform.value(after: ContinuousClock.now - start), unit) }
        }
        emit.logger.info(
            "reading sensor",
            metadata: [
                "sensor": "\(sensor.name)", "type": "\(sensor.kind.rawValue)",
                "interval": "\(DurationText.format(interval))",
            ]
        )
        let (wakes, stopWakes) = SensorWake.stream(interval: interval, readNow: emit.readNow)
        defer { stopWakes() }
        func take() throws {
            do {
                let (value, unit) = try read()
                try emit(.measurement(value, unit: unit))
            } catch let error as SensorReadError {
                emit.logger.warning("reading skipped", metadata: ["sensor": "\(sensor.name)", "reason": "\(error)"])
            }
        }
        try take()
        // The stream ends when the task is cancelled (graceful shutdown).
        for await wake in wakes {
            switch wake {
            case .tick:
                try take()
            case .readNow(let request):
                do {
                    let (value, unit) = try read()
                    emit.answer(request, with: .measurement(value, unit: unit))
                } catch {
                    request.respond(.failure(SensorReadFailure(description: "\(error)")))
                }
            }
        }
    }
}
