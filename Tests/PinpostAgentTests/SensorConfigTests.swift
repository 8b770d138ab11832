import Foundation
import GPIO
import PinpostAgent
import Testing

@Suite("Sensor config keys")
struct SensorConfigTests {
    static let head = """
        [device]
        id = "dev-0001"
        [broker]
        host = "localhost"
        [tls]
        ca_file = "ca.crt"
        cert_file = "device.crt"
        key_file = "device.key"
        [spool]
        dir = "/var/lib/pinpost"

        """

    func parse(_ text: String) throws(ConfigError) -> AgentConfiguration {
        try ConfigLoader.parse(Self.head + text, file: "/etc/pinpost/pinpost.toml")
    }

    func failure(_ text: String) -> ConfigError? {
        do {
            _ = try parse(text)
            Issue.record("expected a config error")
            return nil
        } catch {
            return error
        }
    }

    @Test func parsesEveryKind() throws {
        let configuration = try parse(
            """
            [gpio]
            backend = "libgpiod"
            sysfs_root = "fake-sys"
            sim_socket = "/run/pinpost/sim.sock"
            [[sensor]]
            name = "door"
            type = "digital"
            line = "GPIO17"
            debounce = "20ms"
            interval = "5m"
            [[sensor]]
            name = "flow"
            type = "counter"
            chip = "gpiochip0"
            line = 27
            interval = "10s"
            [[sensor]]
            name = "window"
            type = "poll"
            chip = "gpiochip0"
            line = 22
            [[sensor]]
            name = "water"
            type = "ds18b20"
            device = "28-0316a2791aff"
            interval = "1m"
            [[sensor]]
            name = "room"
            type = "iio"
            device = "bme280"
            channel = "in_temp_input"
            simulate = "sine:60s,18,24"
            """
        )
        #expect(configuration.backend == .libgpiod)
        #expect(configuration.gpio.sysfsRoot == "/etc/pinpost/fake-sys")
        #expect(configuration.gpio.simSocket == "/run/pinpost/sim.sock")
        let sensors = configuration.sensors
        #expect(sensors.map(\.kind) == [.digital, .counter, .poll, .ds18b20, .iio])
        #expect(sensors[0].debounce == .milliseconds(20))
        #expect(sensors[0].interval == .seconds(300))
        #expect(sensors[1].edges == .rising)
        #expect(sensors[2].edges == EdgeDetection.none)
        #expect(sensors[2].interval == .seconds(1))
        #expect(sensors[3].address == nil)
        #expect(sensors[3].device == "28-0316a2791aff")
        #expect(sensors[4].channel == "in_temp_input")
        #expect(sensors[4].simulate == .sine(period: .seconds(60), min: 18, max: 24))
    }

    @Test(arguments: ["raspberry-pi-4", "raspberry-pi-5", "beaglebone-black"])
    func boardProfilesAreValidConfigs(board: String) throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let path = repository.appendingPathComponent("board/profiles/\(board).toml").path
        let configuration = try ConfigLoader.load(path: path)
        #expect(configuration.backend == .libgpiod)
        #expect(!configuration.sensors.isEmpty)
    }

    @Test func simSocketDefaultsToTheSpool() throws {
        let configuration = try parse("")
        #expect(configuration.gpio.simSocket == "/var/lib/pinpost/sim.sock")
        #expect(configuration.gpio.sysfsRoot == "/sys")
    }

    /// Each new key: a bad value is an error naming the file, the key and a fix.
    @Test(arguments: [
        (
            "[[sensor]]\nname = \"d\"\ntype = \"digital\"\nline = \"X\"\ndebounce = \"soon\"", "sensor[0].debounce",
            "duration"
        ),
        (
            "[[sensor]]\nname = \"d\"\ntype = \"digital\"\nline = \"X\"\ndebounce = \"11s\"", "sensor[0].debounce",
            "at most 10s"
        ),
        (
            "[[sensor]]\nname = \"d\"\ntype = \"counter\"\nline = \"X\"\ninterval = \"1us\"", "sensor[0].interval",
            "between 10ms and 1d"
        ),
        ("[[sensor]]\nname = \"d\"\ntype = \"thermo\"", "sensor[0].type", "ds18b20"),
        ("[[sensor]]\nname = \"t\"\ntype = \"ds18b20\"\ndevice = \"10-abc\"", "sensor[0].device", "28-"),
        ("[[sensor]]\nname = \"t\"\ntype = \"ds18b20\"\nline = 4", "sensor[0].line", "for type ds18b20"),
        ("[[sensor]]\nname = \"t\"\ntype = \"iio\"\nchannel = \"in_temp_input\"", "sensor[0].device", "iio:device0"),
        ("[[sensor]]\nname = \"t\"\ntype = \"iio\"\ndevice = \"bme280\"", "sensor[0].channel", "in_temp_input"),
        (
            "[[sensor]]\nname = \"t\"\ntype = \"iio\"\ndevice = \"bme280\"\nchannel = \"out_voltage0_raw\"",
            "sensor[0].channel", "in_voltage0_raw"
        ),
        (
            "[[sensor]]\nname = \"t\"\ntype = \"iio\"\ndevice = \"bme280\"\nchannel = \"in_temp_input\"\nunit = 3",
            "sensor[0].unit", "unit"
        ),
        (
            "[[sensor]]\nname = \"t\"\ntype = \"iio\"\ndevice = \"bme280\"\nchannel = \"in_temp_input\"\nsimulate = \"toggle:1s\"",
            "sensor[0].simulate", "sine:"
        ),
        (
            "[[sensor]]\nname = \"d\"\ntype = \"digital\"\nline = \"X\"\nsimulate = \"sine:1s,0,1\"",
            "sensor[0].simulate", "toggle:"
        ),
        (
            "[[sensor]]\nname = \"p\"\ntype = \"poll\"\nline = \"X\"\ndebounce = \"5ms\"", "sensor[0].debounce",
            "for type poll"
        ),
        ("[gpio]\nsysfs_root = \"\"", "gpio.sysfs_root", "/sys"),
        ("[gpio]\nsim_socket = \"/\(String(repeating: "s", count: 120))\"", "gpio.sim_socket", "sim.sock"),
        ("[gpio]\nbackend = \"sysfs\"", "gpio.backend", "libgpiod"),
    ])
    func badValueNamesFileKeyAndFix(text: String, key: String, fixMentions: String) throws {
        let error = try #require(failure(text))
        #expect(error.file == "/etc/pinpost/pinpost.toml")
        #expect(error.key == key)
        #expect(error.fix.contains(fixMentions) || error.problem.contains(fixMentions), "\(error)")
    }
}
