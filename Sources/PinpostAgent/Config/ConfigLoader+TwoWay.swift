internal import GPIO
internal import TOMLKit

/// `[[output]]`, `[commands]` and `[homeassistant]`: the parts of the config that make the device listen.
extension ConfigLoader {
    struct TwoWaySections {
        var outputs: [AgentConfiguration.Output] = []
        var commands = AgentConfiguration.Commands()
        var homeAssistant = AgentConfiguration.HomeAssistant()
    }

    static let twoWaySectionNames = "[[output]], [commands], [homeassistant]"

    static func parseTwoWay(
        _ top: inout TableReader,
        deviceID: String,
        sensors: [AgentConfiguration.Sensor]
    ) throws(ConfigError) -> TwoWaySections {
        var result = TwoWaySections()
        result.outputs = try parseOutputs(&top, sensors: sensors)
        if var section = try top.subtable("commands", required: false, fix: "write [commands] as a table") {
            result.commands.enabled =
                try section.bool("enabled", fix: "set commands.enabled to true or false") ?? true
            let modes = AgentConfiguration.Commands.ApplyConfig.allCases.map { "\"\($0.rawValue)\"" }
                .joined(separator: ", ")
            if let text = try section.string("apply_config", fix: "set commands.apply_config to one of \(modes)") {
                guard let mode = AgentConfiguration.Commands.ApplyConfig(rawValue: text) else {
                    throw section.error(
                        "apply_config",
                        "'\(text)' is not a mode",
                        fix:
                            "set commands.apply_config to \"off\" (refuse), \"reload\" (re-read this file, as SIGHUP does) or \"replace\" (a command may carry a new config that replaces this file)"
                    )
                }
                result.commands.applyConfig = mode
            }
            result.commands.remember =
                try section.int(
                    "remember",
                    range: 16...65_536,
                    fix: "set commands.remember to how many command ids to remember (16-65536, default 512)"
                ) ?? result.commands.remember
            try section.rejectUnknownKeys(known: "enabled, apply_config, remember")
        }
        if var section = try top.subtable("homeassistant", required: false, fix: "write [homeassistant] as a table") {
            result.homeAssistant.enabled =
                try section.bool("enabled", fix: "set homeassistant.enabled to true or false") ?? true
            if let prefix = try section.string(
                "prefix",
                fix: "set homeassistant.prefix to Home Assistant's discovery prefix (default \"homeassistant\")"
            ) {
                let levels = prefix.split(separator: "/", omittingEmptySubsequences: false)
                guard !prefix.isEmpty, prefix.utf8.count <= 128,
                    levels.allSatisfy({ !$0.isEmpty && !$0.contains("+") && !$0.contains("#") })
                else {
                    throw section.error(
                        "prefix",
                        "'\(prefix)' is not a topic prefix (no empty levels, no + or #)",
                        fix: "set homeassistant.prefix to Home Assistant's discovery prefix, usually \"homeassistant\""
                    )
                }
                result.homeAssistant.prefix = prefix
            }
            if let model = try section.string("model", fix: "set homeassistant.model to the board's model name") {
                guard !model.isEmpty, model.count <= 64 else {
                    throw section.error(
                        "model",
                        "must be 1-64 characters",
                        fix: "set homeassistant.model to a short model name such as \"Raspberry Pi 4\""
                    )
                }
                result.homeAssistant.model = model
            }
            if result.homeAssistant.enabled, deviceID.contains(".") {
                throw ConfigError(
                    file: top.file,
                    key: "device.id",
                    problem:
                        "'\(deviceID)' contains '.', which Home Assistant does not allow in a discovery topic's node id ([a-zA-Z0-9_-])",
                    fix: "use a device id without '.', or set homeassistant.enabled = false"
                )
            }
            try section.rejectUnknownKeys(known: "enabled, prefix, model")
        }
        return result
    }

    private static func parseOutputs(
        _ top: inout TableReader,
        sensors: [AgentConfiguration.Sensor]
    ) throws(ConfigError) -> [AgentConfiguration.Output] {
        guard let value = top.raw("output") else { return [] }
        guard let array = value.array else {
            throw ConfigError(
                file: top.file,
                key: "output",
                problem: "expected [[output]] tables, found \(TableReader.typeName(value))",
                fix: "write each output as an [[output]] table"
            )
        }
        var outputs: [AgentConfiguration.Output] = []
        for (index, element) in array.enumerated() {
            guard let table = element.table else {
                throw ConfigError(
                    file: top.file,
                    key: "output[\(index)]",
                    problem: "expected a table",
                    fix: "write each output as an [[output]] table"
                )
            }
            var reader = TableReader(table: table, path: "output[\(index)]", file: top.file)
            let output = try parseOutput(&reader)
            if outputs.contains(where: { $0.name == output.name }) {
                throw reader.error(
                    "name",
                    "'\(output.name)' is used by two outputs",
                    fix: "give each output its own name; it becomes a topic level"
                )
            }
            if let other = sensors.first(where: { $0.address == output.address }) {
                throw reader.error(
                    "line",
                    "\(output.address) is already used by sensor '\(other.name)'",
                    fix: "wire the output to a line of its own"
                )
            }
            if let other = outputs.first(where: { $0.address == output.address }) {
                throw reader.error(
                    "line",
                    "\(output.address) is already used by output '\(other.name)'",
                    fix: "wire each output to its own line"
                )
            }
            outputs.append(output)
        }
        return outputs
    }

    private static func parseOutput(_ reader: inout TableReader) throws(ConfigError) -> AgentConfiguration.Output {
        let name = try reader.requiredString(
            "name",
            fix: "name the output (letters, digits, '.', '_', '-'); it becomes the topic devices/<id>/outputs/<name>"
        )
        guard name.count <= 64, name.utf8.allSatisfy(isIdentifierByte) else {
            throw reader.error("name", "'\(name)' cannot be a topic level", fix: "use 1-64 of A-Z a-z 0-9 . _ -")
        }
        let address = try lineAddress(&reader)
        let activeLow = try reader.bool("active_low", fix: "set active_low to true or false") ?? false
        let safeState = try state(&reader, "safe_state") ?? false
        let initial = try state(&reader, "initial") ?? safeState
        try reader.rejectUnknownKeys(known: "name, chip, line, active_low, initial, safe_state")
        return AgentConfiguration.Output(
            name: name,
            address: address,
            activeLow: activeLow,
            initial: initial,
            safeState: safeState
        )
    }

    /// `"on"` or `"off"`.
    private static func state(_ reader: inout TableReader, _ key: String) throws(ConfigError) -> Bool? {
        guard let text = try reader.string(key, fix: "set \(key) to \"on\" or \"off\"") else { return nil }
        switch text {
        case "on": return true
        case "off": return false
        default: throw reader.error(key, "'\(text)' is not a state", fix: "set \(key) to \"on\" or \"off\"")
        }
    }
}
