internal import DurableSpool
internal import Publisher
internal import Timestamps

/// The agent's side of `CommandTargets`: outputs through the `OutputBank`, readings through the sensors'
/// triggers, the status through the publisher, the configuration through the `ConfigReloader`.
struct DeviceControl: CommandTargets {
    let outputs: OutputBank
    let triggers: SensorTriggers
    let control: PublisherControl?
    let reloader: ConfigReloader

    func setOutput(
        _ name: String,
        to value: CommandRequest.OutputValue,
        pulse: Duration?
    ) async throws(CommandError) -> CommandReply.Fields {
        try await outputs.set(name, to: value, pulse: pulse)
    }

    func readSensor(_ name: String) async throws(CommandError) -> CommandReply.Fields {
        let sensors = await reloader.current.sensors
        guard sensors.contains(where: { $0.name == name }) else {
            throw CommandError(
                .unknownSensor,
                field: "sensor",
                "no sensor named '\(name.prefix(64))'; sensors: \(sensors.isEmpty ? "none configured" : sensors.map(\.name).joined(separator: ", "))"
            )
        }
        guard let result = await triggers.read(name) else {
            throw CommandError(.sensorFailed, field: "sensor", "sensor '\(name)' is not running")
        }
        switch result {
        case .failure(let failure):
            throw CommandError(.sensorFailed, field: "sensor", "sensor '\(name)': \(failure)")
        case .success(let reading):
            var fields = [ReplyField("sensor", .string(name))]
            switch reading.value {
            case .digital(let on): fields.append(ReplyField("value", .integer(on ? 1 : 0)))
            case .number(let number): fields.append(ReplyField("value", .number(number)))
            case .measurement(let number, let unit):
                fields.append(ReplyField("value", .number(number)))
                if let unit { fields.append(ReplyField("unit", .string(unit))) }
            case .pulses(let pulses, let total, let rate, _):
                fields.append(ReplyField("value", .integer(Int64(clamping: pulses))))
                fields.append(ReplyField("count", .integer(Int64(clamping: total))))
                fields.append(ReplyField("rate", .number(rate)))
            }
            fields.append(ReplyField("ts", .string(reading.takenAt.rfc3339)))
            switch reading.outcome {
            case .stored(let seq):
                fields.append(ReplyField("seq", .integer(Int64(clamping: seq))))
            case .dropped(let seq, let reason):
                fields.append(ReplyField("seq", .integer(Int64(clamping: seq))))
                fields.append(ReplyField("dropped", .string("\(reason)")))
            }
            return fields
        }
    }

    func publishStatus() async -> CommandReply.Fields {
        control?.publishStatus()
        return [ReplyField("status_topic", .string(Topics(deviceID: await reloader.current.device.id).status))]
    }

    func applyConfig(_ text: String?) async throws(CommandError) -> CommandReply.Fields {
        switch await reloader.current.commands.applyConfig {
        case .off:
            throw CommandError(
                .notAllowed,
                field: "command",
                "apply_config is turned off on this device (commands.apply_config = \"off\")"
            )
        case .reload where text != nil:
            throw CommandError(
                .notAllowed,
                field: "config",
                "this device only reloads its config file (commands.apply_config = \"reload\"); send apply_config without \"config\", or set commands.apply_config = \"replace\""
            )
        case .reload, .replace:
            return try await reloader.reload(replacingWith: text, source: "apply_config command")
        }
    }
}
