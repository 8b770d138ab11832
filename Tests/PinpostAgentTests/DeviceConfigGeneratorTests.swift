import DurableSpool
import Foundation
import MQTT
import PinpostAgent
import Testing

/// The generator that writes every device's pinpost.toml (factory bundles, `make demo`), read back with the
/// agent's own loader for each combination of choices: a key renamed in one and not the other fails here.
@Suite("Device config generator")
struct DeviceConfigGeneratorTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let profiles = ["raspberry-pi-4", "raspberry-pi-5", "beaglebone-black"]
    static let demoSensors = repository.appendingPathComponent("board/dev/demo-sensors.toml").path
    static let file = "/etc/pinpost/pinpost.toml"

    static func profile(_ name: String) -> String {
        repository.appendingPathComponent("board/profiles/\(name).toml").path
    }

    static func temporaryFile(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "pinpost-generator-\(UUID().uuidString.prefix(8)).toml"
        ).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func request(_ sensors: DeviceConfigRequest.Sensors?) -> DeviceConfigRequest {
        DeviceConfigRequest(deviceID: "dev-0042", brokerHost: "mqtt.example.net", sensors: sensors)
    }

    @Test(arguments: profiles, [("5", true), ("3.1.1", false), ("5", false), ("3.1.1", true)])
    func profileConfigsLoadWithTheBoardsSensors(board: String, choice: (protocol: String, requireSync: Bool)) throws {
        var request = Self.request(.profile(path: Self.profile(board)))
        request.brokerPort = 18_883
        request.protocolVersion = choice.protocol
        request.requireSync = choice.requireSync
        request.spoolDirectory = "/var/lib/pinpost-test"
        let text = try DeviceConfigGenerator.generate(request, file: Self.file)
        let loaded = try ConfigLoader.parse(text, file: Self.file)

        #expect(loaded.device.id == "dev-0042")
        #expect(loaded.broker.host == "mqtt.example.net" && loaded.broker.port == 18_883)
        #expect(loaded.broker.protocolVersion == (choice.protocol == "5" ? .v5 : .v3_1_1))
        #expect(loaded.time.requireSync == choice.requireSync)
        #expect(loaded.spool.directory == "/var/lib/pinpost-test")
        #expect(loaded.tls.caFile == "/etc/pinpost/ca.crt")
        #expect(loaded.tls.certFile == "/etc/pinpost/device.crt" && loaded.tls.keyFile == "/etc/pinpost/device.key")
        #expect(loaded.backend == .libgpiod, "a production config defaults to the kernel's GPIO")
        let profile = try ConfigLoader.load(path: Self.profile(board))
        #expect(!loaded.sensors.isEmpty)
        #expect(loaded.sensors == profile.sensors, "the board's sensors, unchanged")
        #expect(text.contains("# Sensors from \(Self.profile(board))"))
    }

    @Test(arguments: [AgentConfiguration.Backend.simulated, .libgpiod])
    func aSensorsFileTakesTheBackendAskedFor(backend: AgentConfiguration.Backend) throws {
        let tables = try Self.temporaryFile(
            """
            # the station's wiring
            [[sensor]]
            name = "door"
            type = "digital"
            line = "GPIO17"
            """
        )
        var request = Self.request(.tables(path: tables))
        request.backend = backend
        let loaded = try ConfigLoader.parse(
            try DeviceConfigGenerator.generate(request, file: Self.file),
            file: Self.file
        )
        #expect(loaded.backend == backend)
        #expect(loaded.sensors.map(\.name) == ["door"])
    }

    @Test func theDemoAsksForTheSimulatedBackendAndGetsItsSensors() throws {
        var request = Self.request(.tables(path: Self.demoSensors))
        request.backend = .simulated
        request.requireSync = false
        request.spoolDirectory = "state"
        request.caFile = "pki/device/ca.crt"
        let loaded = try ConfigLoader.parse(
            try DeviceConfigGenerator.generate(request, file: "/demo/pinpost.toml"),
            file: "/demo/pinpost.toml"
        )
        #expect(loaded.backend == .simulated)
        #expect(loaded.sensors.map(\.name) == ["door", "button"])
        #expect(loaded.sensors.allSatisfy { $0.simulate != nil })
        #expect(loaded.spool.directory == "/demo/state" && loaded.tls.caFile == "/demo/pki/device/ca.crt")
    }

    @Test func textIsQuotedAsTOMLStrings() throws {
        var request = Self.request(.profile(path: Self.profile("raspberry-pi-4")))
        request.brokerHost = "odd\"host\\name"
        request.spoolDirectory = "/var/lib/pinpost\tstate"
        let loaded = try ConfigLoader.parse(
            try DeviceConfigGenerator.generate(request, file: Self.file),
            file: Self.file
        )
        #expect(loaded.broker.host == "odd\"host\\name")
        #expect(loaded.spool.directory == "/var/lib/pinpost\tstate")
    }

    /// Each refusal names the file, the key and the fix, and nothing is produced.
    @Test func refusalsSayWhy() throws {
        func refusal(_ request: DeviceConfigRequest) -> ConfigError? {
            do {
                _ = try DeviceConfigGenerator.generate(request, file: Self.file)
                return nil
            } catch {
                return error
            }
        }
        let none = try #require(refusal(Self.request(nil)))
        #expect(none.key == "sensor" && none.problem.contains("publishes nothing real"))
        #expect(none.fix.contains("--profile") && none.fix.contains("--sensors"))

        // Simulated waveforms on a real board would be silently ignored: refused unless asked for.
        let waveform = try #require(refusal(Self.request(.tables(path: Self.demoSensors))))
        #expect(waveform.file == Self.demoSensors && waveform.key == "sensor[0].simulate")
        #expect(waveform.fix.contains("--gpio-backend simulated"))

        let profileAsTables = try #require(refusal(Self.request(.tables(path: Self.profile("raspberry-pi-5")))))
        #expect(profileAsTables.key == "broker" && profileAsTables.problem.contains("only [[sensor]] tables"))

        let badLine = try Self.temporaryFile("[[sensor]]\nname = \"door\"\ntype = \"digital\"\nline = 17\n")
        let unwired = try #require(refusal(Self.request(.tables(path: badLine))))
        #expect(unwired.file == badLine && unwired.key == "sensor[0].chip", "\(unwired)")

        let empty = try Self.temporaryFile("# nothing yet\n")
        #expect(try #require(refusal(Self.request(.tables(path: empty)))).problem.contains("no [[sensor]] tables"))

        let sensorsFirst = try Self.temporaryFile(
            """
            [device]
            id = "x"
            [[sensor]]
            name = "door"
            type = "digital"
            line = "GPIO17"
            [broker]
            host = "h"
            [tls]
            ca_file = "ca.crt"
            cert_file = "device.crt"
            key_file = "device.key"
            [spool]
            dir = "/var/lib/pinpost"
            """
        )
        let order = try #require(refusal(Self.request(.profile(path: sensorsFirst))))
        #expect(order.file == sensorsFirst && order.problem.contains("not the last part"), "\(order)")

        var badID = Self.request(.profile(path: Self.profile("raspberry-pi-4")))
        badID.deviceID = "dev/0042"
        #expect(try #require(refusal(badID)).key == "device.id")

        let missing = try #require(refusal(Self.request(.profile(path: "/nonexistent/board.toml"))))
        #expect(missing.file == "/nonexistent/board.toml" && missing.fix.contains("readable board profile"))
    }
}
