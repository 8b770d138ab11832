internal import ClockTrust
internal import DurableSpool
internal import GPIO
internal import MQTT
internal import SystemExtras
internal import TLS
internal import TOMLKit

/// Parses `pinpost.toml`: every key checked, every error naming file, key and fix.
public enum ConfigLoader {
    /// Loads and validates a config file.
    public static func load(path: String) throws(ConfigError) -> AgentConfiguration {
        let file = FileSystem.absolute(path, relativeTo: FileSystem.currentDirectory())
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(file, limit: 1 << 20)
        } catch {
            throw ConfigError(
                file: file,
                key: "",
                problem: "\(error)",
                fix: "pass the path of a readable pinpost.toml with --config"
            )
        }
        return try parse(String(decoding: bytes, as: UTF8.self), file: file)
    }

    /// Parses config text; `file` names it in errors and anchors relative paths.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> AgentConfiguration {
        let root = try TableReader.table(text, file: file)
        let folder = FileSystem.directoryName(of: file)
        var top = TableReader(table: root, path: "", file: file)

        // [device]
        var device = try top.section("device", fix: "add [device] with id = \"<device id>\"")
        let id = try device.requiredString(
            "id",
            fix: "set device.id to the device's id, the CN of its certificate (letters, digits, '.', '_', '-')"
        )
        guard id.count <= 64, id.utf8.allSatisfy(isIdentifierByte) else {
            throw device.error(
                "id",
                "'\(id)' is not a valid device id (1-64 of A-Z a-z 0-9 . _ -)",
                fix: "use the CN of the device certificate; it becomes an MQTT client id and a topic level"
            )
        }
        try device.rejectUnknownKeys(known: "id")

        // [broker]
        var broker = try top.section("broker", fix: "add [broker] with host and port")
        let host = try broker.requiredString("host", fix: "set broker.host to the broker's DNS name or IP address")
        let port =
            try broker.int("port", range: 1...65535, fix: "set broker.port to the broker's TLS port, usually 8883")
            ?? 8883
        let protocolText = try broker.string("protocol", fix: "set broker.protocol to \"5\" or \"3.1.1\"") ?? "5"
        let version: MQTTVersion
        switch protocolText {
        case "5", "5.0": version = .v5
        case "3.1.1", "3": version = .v3_1_1
        default:
            throw broker.error(
                "protocol",
                "'\(protocolText)' is not a supported MQTT version",
                fix: "set broker.protocol to \"5\" or \"3.1.1\""
            )
        }
        let keepAlive =
            try broker.int(
                "keepalive",
                range: 0...65535,
                fix: "set broker.keepalive in seconds (0 turns keep-alive off; 30 is typical)"
            ) ?? 30
        let sessionExpiry =
            try broker.int(
                "session_expiry",
                range: 0...Int(UInt32.max),
                fix: "set broker.session_expiry in seconds (default 86400, one day)"
            ) ?? 86_400
        let connectTimeout =
            try broker.int("connect_timeout", range: 1...600, fix: "set broker.connect_timeout in seconds (default 10)")
            ?? 10
        let username = try broker.string("username", fix: "set broker.username to the MQTT user name, or remove it")
        let passwordFile = try broker.string(
            "password_file",
            fix: "set broker.password_file to a file (mode 0600) whose first line is the MQTT password, or remove it"
        )
        if passwordFile != nil, username == nil {
            throw broker.error(
                "password_file",
                "set without broker.username",
                fix: "set broker.username too (MQTT sends a password only with a user name)"
            )
        }
        let maxInflight =
            try broker.int(
                "max_inflight",
                range: 1...65535,
                fix:
                    "set broker.max_inflight to how many QoS 1/2 readings may await the broker's acknowledgement at once (default 20, Mosquitto's max_inflight_messages)"
            ) ?? 20
        let topicAliases = try broker.bool("topic_aliases", fix: "set broker.topic_aliases to true or false") ?? true
        let qosPolicyText =
            try broker.string("qos_above_maximum", fix: "set broker.qos_above_maximum to \"downgrade\" or \"refuse\"")
            ?? "downgrade"
        let qosAboveMaximum: AgentConfiguration.QoSAboveMaximum
        switch qosPolicyText {
        case "downgrade": qosAboveMaximum = .downgrade
        case "refuse": qosAboveMaximum = .refuse
        default:
            throw broker.error(
                "qos_above_maximum",
                "'\(qosPolicyText)' is not a policy",
                fix:
                    "set broker.qos_above_maximum to \"downgrade\" (send at the broker's Maximum QoS) or \"refuse\" (drop such readings and log each)"
            )
        }
        try broker.rejectUnknownKeys(
            known:
                "host, port, protocol, keepalive, session_expiry, connect_timeout, username, password_file, max_inflight, topic_aliases, qos_above_maximum"
        )

        // [tls]
        var tls = try top.section("tls", fix: "add [tls] with ca_file, cert_file and key_file")
        let caFile = try tls.string(
            "ca_file",
            fix: "set tls.ca_file to the PEM file of the CA that signed the broker certificate"
        )
        let caDir = try tls.string(
            "ca_dir",
            fix: "set tls.ca_dir to a folder of CA certificates prepared with `openssl rehash`, or remove it"
        )
        guard caFile != nil || caDir != nil else {
            throw tls.error(
                "ca_file",
                "missing (and no tls.ca_dir): the broker's certificate cannot be verified without a trust anchor",
                fix: "set tls.ca_file to the PEM file of the CA that signed the broker certificate"
            )
        }
        let certFile = try tls.requiredString("cert_file", fix: "set tls.cert_file to the device certificate (PEM)")
        let keyFile = try tls.requiredString(
            "key_file",
            fix: "set tls.key_file to the device private key (PEM file, pkcs11: URI or TPM handle:0x...)"
        )
        let pkcs11Module = try tls.string(
            "pkcs11_module",
            fix: "set tls.pkcs11_module to the PKCS#11 module (.so), or remove it to use p11-kit-proxy"
        )
        let pinFile = try tls.string(
            "pin_file",
            fix: "set tls.pin_file to a file (mode 0600) holding the token PIN, or remove it"
        )
        if !keyFile.hasPrefix("pkcs11:") {
            if pkcs11Module != nil {
                throw tls.error(
                    "pkcs11_module",
                    "set, but tls.key_file is not a pkcs11: URI",
                    fix: "remove tls.pkcs11_module, or set tls.key_file to the key's pkcs11: URI"
                )
            }
            if pinFile != nil {
                throw tls.error(
                    "pin_file",
                    "set, but tls.key_file is not a pkcs11: URI",
                    fix: "remove tls.pin_file, or set tls.key_file to the key's pkcs11: URI"
                )
            }
        }
        let crlFile = try tls.string("crl_file", fix: "set tls.crl_file to a PEM CRL file, or remove it")
        let crlModeText =
            try tls.string("crl_mode", fix: "set tls.crl_mode to \"require\", \"leaf\" or \"off\"")
            ?? (crlFile == nil ? "off" : "require")
        guard let crlMode = RevocationMode(rawValue: crlModeText) else {
            throw tls.error(
                "crl_mode",
                "'\(crlModeText)' is not a CRL mode",
                fix: "set tls.crl_mode to \"require\" (whole chain), \"leaf\" (broker certificate only) or \"off\""
            )
        }
        if crlMode != .off, crlFile == nil, caDir == nil {
            throw tls.error(
                "crl_mode",
                "\"\(crlModeText)\" needs CRLs, but neither tls.crl_file nor tls.ca_dir is set",
                fix: "set tls.crl_file to the CA's PEM CRL, or set tls.crl_mode = \"off\""
            )
        }
        if crlMode == .off, crlFile != nil {
            throw tls.error(
                "crl_file",
                "set, but tls.crl_mode = \"off\" would ignore it",
                fix: "remove tls.crl_file, or set tls.crl_mode to \"require\" or \"leaf\""
            )
        }
        let ocspText = try tls.string("ocsp", fix: "set tls.ocsp to \"off\", \"soft\" or \"require\"") ?? "off"
        guard let ocsp = OCSPMode(rawValue: ocspText) else {
            throw tls.error(
                "ocsp",
                "'\(ocspText)' is not an OCSP mode",
                fix: "set tls.ocsp to \"off\", \"soft\" (check a staple when the broker sends one) or \"require\""
            )
        }
        let serverName =
            try tls.string(
                "server_name",
                fix: "set tls.server_name to the name in the broker certificate, or remove it to use broker.host"
            ) ?? host
        let minVersion = try tls.string("min_version", fix: "set tls.min_version to \"1.2\" or \"1.3\"") ?? "1.2"
        guard minVersion == "1.2" || minVersion == "1.3" else {
            throw tls.error(
                "min_version",
                "'\(minVersion)' is not allowed",
                fix: "set tls.min_version to \"1.2\" or \"1.3\" (older versions are refused)"
            )
        }
        let identityText =
            try tls.string("identity", fix: "set tls.identity to \"cn\", \"uri:<URI with {id}>\" or \"none\"") ?? "cn"
        guard let identity = DeviceIdentity.Rule(parsing: identityText) else {
            throw tls.error(
                "identity",
                "'\(identityText)' is not an identity rule",
                fix:
                    "set tls.identity to \"cn\" (device.id = certificate CN), \"uri:spiffe://example.net/device/{id}\" (a SAN URI) or \"none\""
            )
        }
        let expiryWarningDays =
            try tls.int(
                "expiry_warning_days",
                range: 0...3650,
                fix: "set tls.expiry_warning_days to a number of days (default 30)"
            ) ?? 30
        try tls.rejectUnknownKeys(
            known:
                "ca_file, ca_dir, cert_file, key_file, pkcs11_module, pin_file, crl_file, crl_mode, ocsp, server_name, min_version, identity, expiry_warning_days"
        )

        // [time]
        var time = AgentConfiguration.Time(
            requireSync: true,
            maxErrorMilliseconds: 5000,
            syncTimeout: .seconds(300),
            onTimeout: .wait,
            stepThreshold: .seconds(1)
        )
        if var section = try top.subtable("time", required: false, fix: "write [time] as a table") {
            time.requireSync = try section.bool("require_sync", fix: "set time.require_sync to true or false") ?? true
            time.maxErrorMilliseconds =
                try section.int(
                    "max_error_ms",
                    range: 1...3_600_000,
                    fix: "set time.max_error_ms in milliseconds (default 5000)"
                ) ?? 5000
            if let timeout = try section.duration(
                "sync_timeout",
                range: .zero...(.seconds(7 * 86_400)),
                fix: "set time.sync_timeout to a duration such as \"5m\", or \"0s\" to wait without a time-out"
            ) {
                time.syncTimeout = timeout == .zero ? nil : timeout
            }
            let policy =
                try section.string("on_timeout", fix: "set time.on_timeout to \"wait\" or \"proceed-if-plausible\"")
                ?? "wait"
            guard let onTimeout = ClockGate.TimeoutPolicy(rawValue: policy) else {
                throw section.error(
                    "on_timeout",
                    "'\(policy)' is not a policy",
                    fix: "set time.on_timeout to \"wait\" or \"proceed-if-plausible\""
                )
            }
            time.onTimeout = onTimeout
            time.stepThreshold =
                try section.duration(
                    "step_threshold",
                    range: .milliseconds(1)...(.seconds(86_400)),
                    fix: "set time.step_threshold to a duration such as \"1s\""
                ) ?? time.stepThreshold
            try section.rejectUnknownKeys(known: "require_sync, max_error_ms, sync_timeout, on_timeout, step_threshold")
        }

        // [spool]
        var spool = try top.section("spool", fix: "add [spool] with dir = \"/var/lib/pinpost\"")
        let spoolDir = try spool.requiredString(
            "dir",
            fix: "set spool.dir to a folder the agent may write (e.g. /var/lib/pinpost)"
        )
        let maxBytes =
            try spool.int(
                "max_bytes",
                range: (64 << 10)...(1 << 40),
                fix: "set spool.max_bytes in bytes, at least 65536 (default 67108864, 64 MiB)"
            ) ?? (64 << 20)
        let whenFullText =
            try spool.string("when_full", fix: "set spool.when_full to \"drop-oldest\" or \"drop-newest\"")
            ?? "drop-oldest"
        guard let whenFull = SpoolConfiguration.WhenFull(rawValue: whenFullText) else {
            throw spool.error(
                "when_full",
                "'\(whenFullText)' is not a policy",
                fix: "set spool.when_full to \"drop-oldest\" or \"drop-newest\""
            )
        }
        let fsyncText =
            try spool.string("fsync", fix: "set spool.fsync to \"always\" or an interval such as \"1s\"") ?? "1s"
        let fsync: SpoolConfiguration.Fsync
        if fsyncText == "always" {
            fsync = .always
        } else if let interval = DurationText.parse(fsyncText), interval > .zero, interval <= .seconds(60) {
            fsync = .interval(interval)
        } else {
            throw spool.error(
                "fsync",
                "'\(fsyncText)' is neither \"always\" nor an interval up to 60s",
                fix: "set spool.fsync to \"always\" or an interval such as \"1s\""
            )
        }
        try spool.rejectUnknownKeys(known: "dir, max_bytes, when_full, fsync")

        // [backoff]
        var reconnect = AgentConfiguration.Reconnect(
            initial: .seconds(1),
            max: .seconds(300),
            stableAfter: .seconds(60)
        )
        if var backoff = try top.subtable("backoff", required: false, fix: "write [backoff] as a table") {
            let fix = "write a duration such as \"1s\" or \"5m\""
            reconnect.initial =
                try backoff.duration(
                    "initial",
                    range: .milliseconds(10)...(.seconds(3600)),
                    fix: "set backoff.initial: " + fix
                ) ?? reconnect.initial
            reconnect.max =
                try backoff.duration(
                    "max",
                    range: .milliseconds(10)...(.seconds(86_400)),
                    fix: "set backoff.max: " + fix
                ) ?? reconnect.max
            reconnect.stableAfter =
                try backoff.duration(
                    "stable_after",
                    range: .seconds(1)...(.seconds(86_400)),
                    fix: "set backoff.stable_after: " + fix
                ) ?? reconnect.stableAfter
            guard reconnect.initial <= reconnect.max else {
                throw backoff.error("max", "is below backoff.initial", fix: "make backoff.max at least backoff.initial")
            }
            try backoff.rejectUnknownKeys(known: "initial, max, stable_after")
        }

        // [status]
        var statusInterval = Duration.seconds(60)
        if var status = try top.subtable("status", required: false, fix: "write [status] as a table") {
            statusInterval =
                try status.duration(
                    "interval",
                    range: .seconds(1)...(.seconds(86_400)),
                    fix: "set status.interval to a duration such as \"60s\""
                ) ?? statusInterval
            try status.rejectUnknownKeys(known: "interval")
        }

        // [gpio]
        var backend = AgentConfiguration.Backend.simulated
        var gpioSettings = AgentConfiguration.GPIOSettings(
            sysfsRoot: "/sys",
            simSocket: FileSystem.absolute("sim.sock", relativeTo: FileSystem.absolute(spoolDir, relativeTo: folder))
        )
        if var gpio = try top.subtable("gpio", required: false, fix: "write [gpio] as a table") {
            let name =
                try gpio.string("backend", fix: "set gpio.backend to \"simulated\" or \"libgpiod\"") ?? "simulated"
            guard let chosen = AgentConfiguration.Backend(rawValue: name) else {
                throw gpio.error(
                    "backend",
                    "'\(name)' is not a GPIO backend",
                    fix: "set gpio.backend to \"simulated\" or \"libgpiod\""
                )
            }
            backend = chosen
            if let root = try gpio.string(
                "sysfs_root",
                fix: "set gpio.sysfs_root to the sysfs mount point (default \"/sys\")"
            ) {
                guard !root.isEmpty else {
                    throw gpio.error(
                        "sysfs_root",
                        "must not be empty",
                        fix: "set gpio.sysfs_root = \"/sys\" or remove it"
                    )
                }
                gpioSettings.sysfsRoot = FileSystem.absolute(root, relativeTo: folder)
            }
            if let socket = try gpio.string(
                "sim_socket",
                fix: "set gpio.sim_socket to a path for the simulator's control socket"
            ) {
                guard !socket.isEmpty, socket.utf8.count < 108 else {
                    throw gpio.error(
                        "sim_socket",
                        "'\(socket)' cannot be a unix socket path (1-107 bytes)",
                        fix: "use a short path such as \"/run/pinpost/sim.sock\", or remove it for <spool.dir>/sim.sock"
                    )
                }
                gpioSettings.simSocket = FileSystem.absolute(socket, relativeTo: folder)
            }
            try gpio.rejectUnknownKeys(known: "backend, sysfs_root, sim_socket")
        }

        // [[sensor]]
        var sensors: [AgentConfiguration.Sensor] = []
        if let value = top.raw("sensor") {
            guard let array = value.array else {
                throw ConfigError(
                    file: file,
                    key: "sensor",
                    problem: "expected [[sensor]] tables, found \(TableReader.typeName(value))",
                    fix: "write each sensor as a [[sensor]] table"
                )
            }
            for (index, element) in array.enumerated() {
                guard let table = element.table else {
                    throw ConfigError(
                        file: file,
                        key: "sensor[\(index)]",
                        problem: "expected a table",
                        fix: "write each sensor as a [[sensor]] table"
                    )
                }
                let sensor = try parseSensor(
                    TableReader(table: table, path: "sensor[\(index)]", file: file),
                    backend: backend
                )
                if sensors.contains(where: { $0.name == sensor.name }) {
                    throw ConfigError(
                        file: file,
                        key: "sensor[\(index)].name",
                        problem: "'\(sensor.name)' is used by two sensors",
                        fix: "give each sensor its own name; it becomes a topic level"
                    )
                }
                if let address = sensor.address, let other = sensors.first(where: { $0.address == address }) {
                    throw ConfigError(
                        file: file,
                        key: "sensor[\(index)].line",
                        problem: "\(address) is already used by sensor '\(other.name)'",
                        fix: "wire each sensor to its own line"
                    )
                }
                sensors.append(sensor)
            }
        }
        let signing = try parseSigning(&top, folder: folder)
        let renewal = try parseRenewal(
            &top,
            folder: folder,
            spoolDirectory: FileSystem.absolute(spoolDir, relativeTo: folder),
            tlsCAFile: caFile.map { FileSystem.absolute($0, relativeTo: folder) }
        )
        let twoWay = try parseTwoWay(&top, deviceID: id, sensors: sensors)
        try top.rejectUnknownKeys(
            known:
                "[device], [broker], [tls], [time], [spool], [backoff], [status], [gpio], [renewal], [[sensor]], [signing], \(twoWaySectionNames)"
        )

        var configuration = AgentConfiguration(
            file: file,
            device: .init(id: id),
            broker: .init(
                host: host,
                port: port,
                protocolVersion: version,
                keepAlive: .seconds(keepAlive),
                sessionExpiry: UInt32(sessionExpiry),
                connectTimeout: .seconds(connectTimeout),
                username: username,
                passwordFile: passwordFile.map { FileSystem.absolute($0, relativeTo: folder) },
                maxInflight: UInt16(maxInflight),
                topicAliases: topicAliases,
                qosAboveMaximum: qosAboveMaximum
            ),
            tls: .init(
                caFile: caFile.map { FileSystem.absolute($0, relativeTo: folder) },
                caDir: caDir.map { FileSystem.absolute($0, relativeTo: folder) },
                certFile: FileSystem.absolute(certFile, relativeTo: folder),
                keyFile: keyFile.hasPrefix("pkcs11:") || keyFile.hasPrefix("handle:")
                    ? keyFile : FileSystem.absolute(keyFile, relativeTo: folder),
                pkcs11Module: pkcs11Module,
                pinFile: pinFile.map { FileSystem.absolute($0, relativeTo: folder) },
                crlFile: crlFile.map { FileSystem.absolute($0, relativeTo: folder) },
                crlMode: crlMode,
                ocsp: ocsp,
                serverName: serverName,
                minVersion: minVersion,
                identity: identity,
                expiryWarningDays: expiryWarningDays
            ),
            time: time,
            spool: SpoolConfiguration(
                directory: FileSystem.absolute(spoolDir, relativeTo: folder),
                maxBytes: maxBytes,
                whenFull: whenFull,
                fsync: fsync
            ),
            reconnect: reconnect,
            statusInterval: statusInterval,
            backend: backend,
            gpio: gpioSettings,
            sensors: sensors,
            signing: signing,
            renewal: renewal
        )
        configuration.outputs = twoWay.outputs
        configuration.commands = twoWay.commands
        configuration.homeAssistant = twoWay.homeAssistant
        return configuration
    }

    private static func parseSensor(
        _ reader: TableReader,
        backend: AgentConfiguration.Backend
    ) throws(ConfigError) -> AgentConfiguration.Sensor {
        var sensor = reader
        let kinds = AgentConfiguration.Sensor.Kind.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
        let name = try sensor.requiredString(
            "name",
            fix: "name the sensor (letters, digits, '.', '_', '-'); it becomes the topic devices/<id>/sensors/<name>"
        )
        guard name.count <= 64, name.utf8.allSatisfy(isIdentifierByte) else {
            throw sensor.error("name", "'\(name)' cannot be a topic level", fix: "use 1-64 of A-Z a-z 0-9 . _ -")
        }
        let kindText = try sensor.requiredString("type", fix: "set type to one of \(kinds)")
        guard let kind = AgentConfiguration.Sensor.Kind(rawValue: kindText) else {
            throw sensor.error("type", "'\(kindText)' is not a sensor type", fix: "set type to one of \(kinds)")
        }
        var result = AgentConfiguration.Sensor(name: name, kind: kind, address: nil)
        var known = ["name", "type", "qos", "simulate"]
        let qosNumber = try sensor.int("qos", range: 0...2, fix: "set qos to 0, 1 or 2 (default 1)") ?? 1
        result.qos = QoS(rawValue: UInt8(qosNumber))!

        if kind.usesLine {
            known += ["chip", "line", "bias", "active_low"]
            result.address = try lineAddress(&sensor)
            let biasText =
                try sensor.string("bias", fix: "set bias to \"pull-up\", \"pull-down\", \"disabled\" or \"as-is\"")
                ?? "as-is"
            guard let bias = LineBias(rawValue: biasText) else {
                throw sensor.error(
                    "bias",
                    "'\(biasText)' is not a bias",
                    fix: "set bias to \"pull-up\", \"pull-down\", \"disabled\" or \"as-is\""
                )
            }
            result.bias = bias
            result.activeLow = try sensor.bool("active_low", fix: "set active_low to true or false") ?? false
        }
        if kind == .digital || kind == .counter {
            known += ["edge", "debounce"]
            let defaultEdge = kind == .counter ? "rising" : "both"
            let edgeText =
                try sensor.string("edge", fix: "set edge to \"rising\", \"falling\" or \"both\"") ?? defaultEdge
            guard let edges = EdgeDetection(rawValue: edgeText), edges != .none else {
                throw sensor.error(
                    "edge",
                    "'\(edgeText)' is not an edge",
                    fix: "set edge to \"rising\", \"falling\" or \"both\""
                )
            }
            result.edges = edges
            result.debounce =
                try duration(
                    &sensor,
                    "debounce",
                    range: .zero ... .seconds(10),
                    fix: "set debounce to a duration such as \"20ms\" (0 turns it off; at most 10s)"
                ) ?? .zero
        } else {
            result.edges = .none
        }
        known.append("interval")
        let defaultInterval: Duration? =
            switch kind {
            case .digital: nil
            case .counter: .seconds(10)
            case .poll: .seconds(1)
            case .ds18b20: .seconds(30)
            case .iio: .seconds(10)
            }
        result.interval =
            try duration(
                &sensor,
                "interval",
                range: .milliseconds(10) ... .seconds(86_400),
                fix: "set interval to a duration between 10ms and 1d, e.g. \"10s\""
            ) ?? defaultInterval
        if kind == .ds18b20 || kind == .iio {
            known += ["device", "unit"]
            result.device = try sensor.string(
                "device",
                fix: kind == .ds18b20
                    ? "set device to the thermometer's id (\"28-0316a2791aff\", see /sys/bus/w1/devices) or remove it to use the first one found"
                    : "set device to \"iio:device0\" or the device's name (cat /sys/bus/iio/devices/*/name)"
            )
            if kind == .iio {
                known.append("channel")
                if result.device == nil {
                    throw sensor.error(
                        "device",
                        "missing",
                        fix: "set device to \"iio:device0\" or the device's name (cat /sys/bus/iio/devices/*/name)"
                    )
                }
                let channel = try sensor.requiredString(
                    "channel",
                    fix:
                        "set channel to the IIO attribute to read, e.g. \"in_temp_input\" or \"in_voltage0_raw\" (ls /sys/bus/iio/devices/iio:device0)"
                )
                guard channel.hasPrefix("in_"), !channel.contains("/") else {
                    throw sensor.error(
                        "channel",
                        "'\(channel)' is not an IIO input channel",
                        fix:
                            "use an attribute such as \"in_temp_input\", \"in_voltage0_raw\" or \"in_humidityrelative_input\""
                    )
                }
                result.channel = channel
            } else if let device = result.device, !(device.hasPrefix("28-") && !device.contains("/")) {
                throw sensor.error(
                    "device",
                    "'\(device)' is not a DS18B20 id",
                    fix:
                        "use the folder name under /sys/bus/w1/devices, which starts with \"28-\", or remove device to use the first one found"
                )
            }
            result.unit = try sensor.string("unit", fix: "set unit to the unit text to publish, e.g. \"°C\"")
        }
        if let text = try sensor.string("simulate", fix: "set simulate to a waveform such as \"toggle:100ms\"") {
            let waveform: Waveform
            do {
                waveform = try Waveform(parsing: text)
            } catch {
                throw sensor.error(
                    "simulate",
                    "\(error)",
                    fix: kind.usesLine
                        ? "use toggle:<duration>, pulses:<rate>, random:<mean interval> or constant:<0|1>"
                        : "use sine:<period>,<min>,<max>, e.g. sine:60s,18,24"
                )
            }
            if waveform.isAnalog == kind.usesLine {
                throw sensor.error(
                    "simulate",
                    "'\(text)' does not fit a \(kind.rawValue) sensor",
                    fix: kind.usesLine
                        ? "use toggle:<duration>, pulses:<rate>, random:<mean interval> or constant:<0|1> (sine is for ds18b20 and iio)"
                        : "use sine:<period>,<min>,<max>, e.g. sine:60s,18,24"
                )
            }
            result.simulate = waveform
        }
        try sensor.rejectUnknownKeys(known: "\(known.joined(separator: ", ")) (for type \(kind.rawValue))")
        return result
    }

    /// `chip` + `line` (offset or name) of a GPIO sensor or output.
    static func lineAddress(_ sensor: inout TableReader) throws(ConfigError) -> LineAddress {
        let chip = try sensor.string(
            "chip",
            fix: "set chip to a chip name (gpiochip0), a path (/dev/gpiochip0) or a label"
        )
        if let chip, chip.isEmpty {
            throw sensor.error(
                "chip",
                "must not be empty",
                fix:
                    "set chip to a chip name (gpiochip0), a path (/dev/gpiochip0) or a label, or remove it with a named line"
            )
        }
        let line: LineAddress.Line
        switch sensor.raw("line") {
        case .none:
            throw sensor.error(
                "line",
                "missing",
                fix: "set line to the line offset on the chip (e.g. 17) or the line's name (e.g. \"GPIO17\")"
            )
        case .some(let value):
            if let offset = value.int, offset >= 0, offset < 4096 {
                line = .offset(UInt32(offset))
            } else if let lineName = value.string, !lineName.isEmpty {
                line = .name(lineName)
            } else {
                throw sensor.error(
                    "line",
                    "expected a line offset (0-4095) or a line name, found \(TableReader.typeName(value))",
                    fix: "set line = 17 or line = \"GPIO17\""
                )
            }
        }
        if chip == nil, case .offset = line {
            throw sensor.error(
                "chip",
                "missing: a line offset needs a chip",
                fix: "set chip = \"gpiochip0\", or name the line instead (line = \"GPIO17\")"
            )
        }
        return LineAddress(chip: chip, line: line)
    }

    private static func duration(
        _ reader: inout TableReader,
        _ key: String,
        range: ClosedRange<Duration>,
        fix: String
    ) throws(ConfigError) -> Duration? {
        guard let text = try reader.string(key, fix: fix) else { return nil }
        guard let value = DurationText.parse(text) else {
            throw reader.error(key, "'\(text)' is not a duration", fix: fix)
        }
        guard range.contains(value) else {
            throw reader.error(key, "\(text) is out of range", fix: fix)
        }
        return value
    }

    static func isIdentifierByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }
}
