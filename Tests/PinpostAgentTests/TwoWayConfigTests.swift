import Foundation
import GPIO
import PinpostAgent
import Testing

@Suite("Config keys of outputs, commands and Home Assistant")
struct TwoWayConfigTests {
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
        [[sensor]]
        name = "door"
        type = "digital"
        chip = "gpiochip0"
        line = 17

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

    @Test func defaultsWithoutTheSections() throws {
        let configuration = try parse("")
        #expect(configuration.outputs.isEmpty)
        #expect(
            configuration.commands == AgentConfiguration.Commands(enabled: true, applyConfig: .reload, remember: 512)
        )
        #expect(!configuration.homeAssistant.enabled)
    }

    @Test func parsesOutputsCommandsAndHomeAssistant() throws {
        let configuration = try parse(
            """
            [[output]]
            name = "relay"
            chip = "gpiochip0"
            line = 22
            safe_state = "off"
            initial = "on"

            [[output]]
            name = "lamp"
            line = "GPIO23"
            active_low = true

            [commands]
            apply_config = "replace"
            remember = 64

            [homeassistant]
            model = "Raspberry Pi 4"
            """
        )
        #expect(
            configuration.outputs == [
                .init(
                    name: "relay",
                    address: LineAddress(chip: "gpiochip0", line: .offset(22)),
                    initial: true,
                    safeState: false
                ),
                .init(
                    name: "lamp",
                    address: LineAddress(chip: nil, line: .name("GPIO23")),
                    activeLow: true,
                    initial: false,
                    safeState: false
                ),
            ]
        )
        #expect(configuration.commands.applyConfig == .replace)
        #expect(configuration.commands.remember == 64)
        #expect(configuration.homeAssistant == .init(enabled: true, prefix: "homeassistant", model: "Raspberry Pi 4"))
    }

    @Test func initialDefaultsToTheSafeState() throws {
        let configuration = try parse(
            "[[output]]\nname = \"relay\"\nchip = \"gpiochip0\"\nline = 22\nsafe_state = \"on\""
        )
        #expect(configuration.outputs.first?.initial == true)
    }

    @Test(arguments: [
        ("[[output]]\nname = \"relay\"\nchip = \"gpiochip0\"\nline = 17", "output[0].line", "sensor 'door'"),
        (
            "[[output]]\nname = \"a\"\nchip = \"c\"\nline = 1\n[[output]]\nname = \"a\"\nchip = \"c\"\nline = 2",
            "output[1].name", "two outputs"
        ),
        (
            "[[output]]\nname = \"a\"\nchip = \"c\"\nline = 1\n[[output]]\nname = \"b\"\nchip = \"c\"\nline = 1",
            "output[1].line", "output 'a'"
        ),
        ("[[output]]\nname = \"a\"\nchip = \"c\"\nline = 1\ninitial = \"high\"", "output[0].initial", "not a state"),
        ("[[output]]\nname = \"a\"\nchip = \"c\"\nline = 1\nedge = \"both\"", "output[0].edge", "unknown key"),
        ("[[output]]\nname = \"a/b\"\nchip = \"c\"\nline = 1", "output[0].name", "topic level"),
        ("[[output]]\nname = \"a\"\nline = 1", "output[0].chip", "needs a chip"),
        ("[commands]\napply_config = \"always\"", "commands.apply_config", "not a mode"),
        ("[commands]\nremember = 3", "commands.remember", "out of range"),
        ("[commands]\nlisten = true", "commands.listen", "unknown key"),
        ("[homeassistant]\nprefix = \"home/+\"", "homeassistant.prefix", "no + or #"),
        ("[homeassistant]\nmodel = \"\"", "homeassistant.model", "1-64"),
    ])
    func refusesWithFileKeyAndFix(text: String, key: String, problem: String) {
        let error = failure(text)
        #expect(error?.key == key, "\(String(describing: error))")
        #expect(error?.problem.contains(problem) == true, "\(String(describing: error))")
        #expect(error?.fix.isEmpty == false)
        #expect(error?.file == "/etc/pinpost/pinpost.toml")
    }

    @Test func homeAssistantNeedsADeviceIDItsTopicsAccept() {
        let text = Self.head.replacingOccurrences(of: "dev-0001", with: "dev.0001") + "[homeassistant]\n"
        do {
            _ = try ConfigLoader.parse(text, file: "/etc/pinpost/pinpost.toml")
            Issue.record("a device id with '.' was accepted for Home Assistant discovery")
        } catch {
            #expect(error.key == "device.id")
            #expect(error.fix.contains("homeassistant.enabled = false"))
        }
        let disabled =
            Self.head.replacingOccurrences(of: "dev-0001", with: "dev.0001")
            + "[homeassistant]\nenabled = false\n"
        #expect((try? ConfigLoader.parse(disabled, file: "/etc/pinpost/pinpost.toml")) != nil)
    }
}
