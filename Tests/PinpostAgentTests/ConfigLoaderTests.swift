import ClockTrust
import DurableSpool
import Foundation
import GPIO
import MQTT
import PinpostAgent
import Testing

@Suite("Config loading")
struct ConfigLoaderTests {
    static let valid = """
        [device]
        id = "dev-0001"

        [broker]
        host = "localhost"
        port = 8883
        protocol = "5"
        keepalive = 30

        [tls]
        ca_file = "ca.crt"
        cert_file = "device.crt"
        key_file = "/etc/pinpost/device.key"

        [time]
        require_sync = true

        [spool]
        dir = "state"

        [gpio]
        backend = "simulated"

        [[sensor]]
        name = "door"
        type = "digital"
        chip = "gpiochip0"
        line = 17
        simulate = "toggle:100ms"

        [[sensor]]
        name = "button"
        type = "digital"
        line = "GPIO27"
        edge = "falling"
        bias = "pull-up"
        active_low = true
        qos = 0
        """

    func parse(_ text: String) throws(ConfigError) -> AgentConfiguration {
        try ConfigLoader.parse(text, file: "/etc/pinpost/pinpost.toml")
    }

    /// Expects a ConfigError for `text` and returns it.
    func failure(_ text: String) -> ConfigError? {
        do {
            _ = try parse(text)
            Issue.record("expected a config error")
            return nil
        } catch {
            return error
        }
    }

    @Test func parsesTheDocumentedExample() throws {
        let configuration = try parse(Self.valid)
        #expect(configuration.device.id == "dev-0001")
        #expect(configuration.broker.port == 8883)
        #expect(configuration.broker.protocolVersion == .v5)
        #expect(configuration.broker.keepAlive == .seconds(30))
        #expect(configuration.broker.sessionExpiry == 86_400)
        #expect(configuration.tls.serverName == "localhost")
        #expect(configuration.time.requireSync)
        #expect(configuration.backend == .simulated)
        #expect(configuration.sensors.count == 2)
        #expect(configuration.sensors[0].address == LineAddress(chip: "gpiochip0", line: .offset(17)))
        #expect(configuration.sensors[0].simulate == .toggle(period: .milliseconds(100)))
        #expect(configuration.sensors[0].qos == .atLeastOnce)
        #expect(configuration.sensors[1].address == LineAddress(chip: nil, line: .name("GPIO27")))
        #expect(configuration.sensors[1].edges == .falling)
        #expect(configuration.sensors[1].bias == .pullUp)
        #expect(configuration.sensors[1].activeLow)
        #expect(configuration.sensors[1].qos == .atMostOnce)
    }

    @Test func relativePathsResolveAgainstTheConfigFolder() throws {
        let configuration = try parse(Self.valid)
        #expect(configuration.tls.caFile == "/etc/pinpost/ca.crt")
        #expect(configuration.tls.keyFile == "/etc/pinpost/device.key")
        #expect(configuration.spool.directory == "/etc/pinpost/state")
    }

    @Test func unknownKeyIsAnErrorNamingFileAndKey() throws {
        let text = Self.valid.replacingFirst("keepalive = 30", with: "keepalive = 30\nkeep_alive = 10")
        let error = try #require(failure(text))
        #expect(error.file == "/etc/pinpost/pinpost.toml")
        #expect(error.key == "broker.keep_alive")
        #expect(error.problem == "unknown key")
        #expect(error.description.contains("keepalive"))  // the fix lists the known keys
    }

    @Test func unknownSectionIsAnError() throws {
        let error = try #require(failure(Self.valid + "\n[mqtt]\nqos = 1\n"))
        #expect(error.key == "mqtt")
    }

    @Test func unknownSensorKeyNamesTheSensorIndex() throws {
        let text = Self.valid.replacingFirst(
            "simulate = \"toggle:100ms\"",
            with: "simulate = \"toggle:100ms\"\ndebounse = \"5ms\""
        )
        let error = try #require(failure(text))
        #expect(error.key == "sensor[0].debounse")
    }

    @Test func wrongTypeSaysWhatWasFound() throws {
        let error = try #require(failure(Self.valid.replacingFirst("port = 8883", with: "port = \"8883\"")))
        #expect(error.key == "broker.port")
        #expect(error.problem.contains("expected an integer, found a string"))
    }

    @Test func portOutOfRange() throws {
        let error = try #require(failure(Self.valid.replacingFirst("port = 8883", with: "port = 70000")))
        #expect(error.key == "broker.port")
        #expect(error.problem.contains("out of range"))
    }

    @Test func unsupportedProtocolVersion() throws {
        let error = try #require(failure(Self.valid.replacingFirst("protocol = \"5\"", with: "protocol = \"3.1\"")))
        #expect(error.key == "broker.protocol")
        #expect(error.fix.contains("\"3.1.1\""))
    }

    @Test func topicAliasesAndMaximumQoSPolicy() throws {
        let defaults = try parse(Self.valid)
        #expect(defaults.broker.topicAliases)
        #expect(defaults.broker.qosAboveMaximum == .downgrade)
        #expect(defaults.broker.maxInflight == 20)
        #expect(
            try parse(Self.valid.replacingFirst("keepalive = 30", with: "keepalive = 30\nmax_inflight = 5")).broker
                .maxInflight == 5
        )
        #expect(
            try #require(failure(Self.valid.replacingFirst("keepalive = 30", with: "keepalive = 30\nmax_inflight = 0")))
                .key == "broker.max_inflight"
        )
        let set = try parse(
            Self.valid.replacingFirst(
                "keepalive = 30",
                with: "keepalive = 30\ntopic_aliases = false\nqos_above_maximum = \"refuse\""
            )
        )
        #expect(!set.broker.topicAliases)
        #expect(set.broker.qosAboveMaximum == .refuse)
        let error = try #require(
            failure(Self.valid.replacingFirst("keepalive = 30", with: "keepalive = 30\nqos_above_maximum = \"drop\""))
        )
        #expect(error.key == "broker.qos_above_maximum")
        #expect(error.fix.contains("\"downgrade\"") && error.fix.contains("\"refuse\""))
    }

    @Test func missingSectionNamesIt() throws {
        let text = Self.valid.replacingFirst("[spool]\ndir = \"state\"", with: "")
        let error = try #require(failure(text))
        #expect(error.key == "spool")
        #expect(error.problem.contains("missing"))
    }

    @Test func missingDeviceID() throws {
        let error = try #require(failure(Self.valid.replacingFirst("id = \"dev-0001\"", with: "")))
        #expect(error.key == "device.id")
    }

    @Test(arguments: ["dev/1", "dev+1", "dev#1", "", "über"])
    func deviceIDMustBeUsableAsClientIDAndTopicLevel(id: String) throws {
        let error = try #require(failure(Self.valid.replacingFirst("id = \"dev-0001\"", with: "id = \"\(id)\"")))
        #expect(error.key == "device.id")
    }

    @Test func badWaveformIsExplained() throws {
        let error = try #require(failure(Self.valid.replacingFirst("toggle:100ms", with: "blink:fast")))
        #expect(error.key == "sensor[0].simulate")
        #expect(error.problem.contains("blink:fast"))
    }

    @Test func lineOffsetNeedsAChip() throws {
        let error = try #require(failure(Self.valid.replacingFirst("chip = \"gpiochip0\"\n", with: "")))
        #expect(error.key == "sensor[0].chip")
    }

    @Test func twoSensorsOnOneLineAreRefused() throws {
        let text = Self.valid.replacingFirst("line = \"GPIO27\"", with: "chip = \"gpiochip0\"\nline = 17")
        let error = try #require(failure(text))
        #expect(error.key == "sensor[1].line")
        #expect(error.problem.contains("door"))
    }

    @Test func duplicateSensorNamesAreRefused() throws {
        let error = try #require(failure(Self.valid.replacingFirst("name = \"button\"", with: "name = \"door\"")))
        #expect(error.key == "sensor[1].name")
    }

    @Test func syntaxErrorGivesLine() throws {
        let error = try #require(failure("[device]\nid = \"x\n"))
        #expect(error.problem.contains("line 2"))
    }

    @Test func tlsBelow12IsRefused() throws {
        let text = Self.valid.replacingFirst(
            "key_file = \"/etc/pinpost/device.key\"",
            with: "key_file = \"/etc/pinpost/device.key\"\nmin_version = \"1.1\""
        )
        let error = try #require(failure(text))
        #expect(error.key == "tls.min_version")
    }

    @Test func timeSectionDefaultsAndValues() throws {
        let defaults = try parse(Self.valid)
        #expect(defaults.time.syncTimeout == .seconds(300))
        #expect(defaults.time.onTimeout == .wait)
        #expect(defaults.time.stepThreshold == .seconds(1))
        let text = Self.valid.replacingFirst(
            "require_sync = true",
            with:
                "require_sync = true\nsync_timeout = \"0s\"\non_timeout = \"proceed-if-plausible\"\nstep_threshold = \"250ms\""
        )
        let configured = try parse(text)
        #expect(configured.time.syncTimeout == nil, "0s waits without a time-out")
        #expect(configured.time.onTimeout == .proceedIfPlausible)
        #expect(configured.time.stepThreshold == .milliseconds(250))
    }

    @Test func unknownTimeoutPolicyIsExplained() throws {
        let error = try #require(
            failure(
                Self.valid.replacingFirst("require_sync = true", with: "require_sync = true\non_timeout = \"connect\"")
            )
        )
        #expect(error.key == "time.on_timeout")
        #expect(error.fix.contains("proceed-if-plausible"))
    }

    @Test func spoolAndBackoffSettings() throws {
        let text = Self.valid.replacingFirst(
            "dir = \"state\"",
            with:
                "dir = \"state\"\nmax_bytes = 1048576\nwhen_full = \"drop-newest\"\nfsync = \"always\"\n\n[backoff]\ninitial = \"500ms\"\nmax = \"2m\""
        )
        let configuration = try parse(text)
        #expect(configuration.spool.maxBytes == 1_048_576)
        #expect(configuration.spool.whenFull == .dropNewest)
        #expect(configuration.spool.fsync == .always)
        #expect(configuration.reconnect.initial == .milliseconds(500))
        #expect(configuration.reconnect.max == .seconds(120))
        let inverted = try #require(failure(Self.valid + "\n[backoff]\ninitial = \"10m\"\nmax = \"1m\"\n"))
        #expect(inverted.key == "backoff.max")
        let badFsync = try #require(
            failure(Self.valid.replacingFirst("dir = \"state\"", with: "dir = \"state\"\nfsync = \"sometimes\""))
        )
        #expect(badFsync.key == "spool.fsync")
    }

    @Test func missingFileIsAConfigError() throws {
        #expect(throws: ConfigError.self) { try ConfigLoader.load(path: "/nonexistent/pinpost.toml") }
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else {
            Issue.record("test fixture does not contain \(target)")
            return self
        }
        return replacingCharacters(in: range, with: replacement)
    }
}
