internal import SystemExtras
internal import TOMLKit

/// Writes a device's `pinpost.toml`: the one place besides `ConfigLoader` that knows the schema, so the
/// factory's bundles, the demo and the loader cannot drift apart. Every result is loaded with
/// `ConfigLoader` before it is returned, so a config the agent would refuse is never written.
public enum DeviceConfigGenerator {
    /// The config text for `request`. `file` is where it will live (relative paths and messages).
    public static func generate(_ request: DeviceConfigRequest, file: String) throws(ConfigError) -> String {
        let source = try sensorSource(request, file: file)
        let backend = request.backend ?? source.backend ?? .libgpiod
        if backend != .simulated, let simulated = source.simulatedSensor {
            throw ConfigError(
                file: source.path,
                key: "sensor[\(simulated.index)].simulate",
                problem:
                    "sensor '\(simulated.name)' has a simulated waveform, which only gpio.backend = \"simulated\" uses, but the backend is \"\(backend.rawValue)\"",
                fix:
                    "remove simulate from the sensors of a real board, or ask for the simulated backend explicitly (--gpio-backend simulated)"
            )
        }

        var lines = [
            "# Pinpost config for device \(request.deviceID), written by \(request.writtenBy).",
            "# Relative paths resolve against this file's folder (/etc/pinpost when installed).",
            "[device]",
            "id = \(quoted(request.deviceID))",
            "",
            "[broker]",
            "host = \(quoted(request.brokerHost))",
            "port = \(request.brokerPort)",
            "protocol = \(quoted(request.protocolVersion))",
            "",
            "[tls]",
            "ca_file = \(quoted(request.caFile))",
            "cert_file = \(quoted(request.certFile))",
            "key_file = \(quoted(request.keyFile))",
            "",
            "[time]",
            "require_sync = \(request.requireSync)",
            "",
            "[spool]",
            "dir = \(quoted(request.spoolDirectory))",
            "",
            "[gpio]",
            "backend = \(quoted(backend.rawValue))",
        ]
        for (key, value) in source.gpioSettings { lines.append("\(key) = \(quoted(value))") }
        lines += ["", "# Sensors from \(source.path)", source.tables.trimmingTrailingNewlines(), ""]
        let text = lines.joined(separator: "\n")

        do {
            _ = try ConfigLoader.parse(text, file: file)
        } catch {
            var error = error
            // The sensor tables are copied verbatim and in order, so sensor[i] is the source's sensor[i].
            if error.key.hasPrefix("sensor") { error.file = source.path }
            throw error
        }
        return text
    }

    /// The sensor tables (as text, comments kept) and the `[gpio]` settings of a profile or a tables file.
    private struct SensorSource {
        var path: String
        var tables: String
        var backend: AgentConfiguration.Backend?
        var gpioSettings: [(String, String)]
        var simulatedSensor: (index: Int, name: String)?
    }

    private static func sensorSource(_ request: DeviceConfigRequest, file: String) throws(ConfigError) -> SensorSource {
        switch request.sensors {
        case nil:
            throw ConfigError(
                file: file,
                key: "sensor",
                problem:
                    "no sensors were named: a device without [[sensor]] tables starts, connects and publishes nothing real",
                fix:
                    "name the board's profile (--profile, board/profiles/*.toml) or a file of [[sensor]] tables (--sensors)"
            )
        case .profile(let path):
            return try profile(path)
        case .tables(let path):
            return try tablesFile(path)
        }
    }

    /// A profile is a complete config (checked as one); its `[[sensor]]` tables must come last so they can be
    /// copied with their comments.
    private static func profile(_ path: String) throws(ConfigError) -> SensorSource {
        let text = try read(path, what: "board profile")
        let configuration = try ConfigLoader.parse(text, file: path)
        let root = try TableReader.table(text, file: path)
        let tables = sensorTables(in: text)
        let copied = try TableReader.table(tables, file: path)
        guard copied.keys == ["sensor"], copied["sensor"]?.array?.count == configuration.sensors.count,
            !configuration.sensors.isEmpty
        else {
            throw ConfigError(
                file: path,
                key: "sensor",
                problem: configuration.sensors.isEmpty
                    ? "the profile names no sensors"
                    : "the [[sensor]] tables are not the last part of the profile",
                fix: configuration.sensors.isEmpty
                    ? "add the board's [[sensor]] tables to the profile"
                    : "move every [[sensor]] table after the other sections"
            )
        }
        var settings: [(String, String)] = []
        var backend: AgentConfiguration.Backend?
        if let gpio = root["gpio"]?.table {
            backend = gpio["backend"]?.string.flatMap(AgentConfiguration.Backend.init(rawValue:))
            for key in ["sysfs_root", "sim_socket"] {
                if let value = gpio[key]?.string { settings.append((key, value)) }
            }
        }
        return SensorSource(
            path: path,
            tables: tables,
            backend: backend,
            gpioSettings: settings,
            simulatedSensor: simulatedSensor(in: copied)
        )
    }

    /// A file of `[[sensor]]` tables only; anything else belongs in a profile.
    private static func tablesFile(_ path: String) throws(ConfigError) -> SensorSource {
        let text = try read(path, what: "sensors file")
        let root = try TableReader.table(text, file: path)
        if let other = root.keys.sorted().first(where: { $0 != "sensor" }) {
            throw ConfigError(
                file: path,
                key: other,
                problem: "a sensors file holds only [[sensor]] tables",
                fix: "remove [\(other)] from the file (the factory writes the other sections), or use a board profile"
            )
        }
        guard let count = root["sensor"]?.array?.count, count > 0 else {
            throw ConfigError(
                file: path,
                key: "sensor",
                problem: "no [[sensor]] tables in the file",
                fix: "add the device's sensors as [[sensor]] tables (README, Sensors: wiring to config)"
            )
        }
        return SensorSource(
            path: path,
            tables: text,
            backend: nil,
            gpioSettings: [],
            simulatedSensor: simulatedSensor(in: root)
        )
    }

    private static func read(_ path: String, what: String) throws(ConfigError) -> String {
        do {
            return String(decoding: try FileSystem.readFile(path, limit: 1 << 20), as: UTF8.self)
        } catch {
            throw ConfigError(file: path, key: "", problem: "\(error)", fix: "pass the path of a readable \(what)")
        }
    }

    /// The text from the first `[[sensor]]` header to the end.
    private static func sensorTables(in text: String) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let first = lines.firstIndex(where: { $0.drop { $0 == " " || $0 == "\t" }.hasPrefix("[[sensor]]") })
        else { return "" }
        lines.removeFirst(first)
        return lines.joined(separator: "\n")
    }

    private static func simulatedSensor(in root: TOMLTable) -> (index: Int, name: String)? {
        guard let sensors = root["sensor"]?.array else { return nil }
        for (index, element) in sensors.enumerated() {
            if let sensor = element.table, sensor["simulate"] != nil {
                return (index, sensor["name"]?.string ?? "?")
            }
        }
        return nil
    }

    /// A TOML basic string.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\r": result += "\\r"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}

extension String {
    fileprivate func trimmingTrailingNewlines() -> String {
        var text = self
        while text.last == "\n" || text.last == "\r\n" || text.last == " " { text.removeLast() }
        return text
    }
}
