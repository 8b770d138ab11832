import Foundation
import MQTT
import Publisher
import Testing

@testable import PinpostAgent

@Suite("Home Assistant discovery payloads")
struct DiscoveryConfigsTests {
    static let config = """
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
        [homeassistant]
        model = "Raspberry Pi 4"
        [[sensor]]
        name = "door"
        type = "digital"
        chip = "gpiochip0"
        line = 17
        [[sensor]]
        name = "flow.main"
        type = "counter"
        chip = "gpiochip0"
        line = 27
        [[sensor]]
        name = "room"
        type = "ds18b20"
        [[sensor]]
        name = "humidity"
        type = "iio"
        device = "bme280"
        channel = "in_humidityrelative_input"
        [[output]]
        name = "relay"
        chip = "gpiochip0"
        line = 22
        """

    func messages() throws -> [String: [String: Any]] {
        let configuration = try ConfigLoader.parse(Self.config, file: "/etc/pinpost/pinpost.toml")
        var result: [String: [String: Any]] = [:]
        for message in DiscoveryConfigs.messages(for: configuration) {
            result[message.topic] = try JSONSerialization.jsonObject(with: Data(message.payload.utf8)) as? [String: Any]
        }
        return result
    }

    @Test func oneConfigPerEntityOnTheDocumentedTopics() throws {
        let messages = try messages()
        #expect(
            Set(messages.keys) == [
                "homeassistant/binary_sensor/dev-0001/door/config",
                "homeassistant/sensor/dev-0001/flow_main/config",
                "homeassistant/sensor/dev-0001/room/config",
                "homeassistant/sensor/dev-0001/humidity/config",
                "homeassistant/switch/dev-0001/relay/config",
            ]
        )
        for (topic, payload) in messages {
            // <discovery_prefix>/<component>/<node_id>/<object_id>/config, ids in [a-zA-Z0-9_-].
            #expect(
                topic.wholeMatch(
                    of: /homeassistant\/(binary_sensor|sensor|switch)\/[a-zA-Z0-9_-]+\/[a-zA-Z0-9_-]+\/config/
                ) != nil
            )
            #expect((payload["unique_id"] as? String)?.hasPrefix("pinpost_dev-0001_") == true)
            let device = payload["device"] as? [String: Any]
            #expect((device?["identifiers"] as? [String]) == ["pinpost_dev-0001"])
            #expect(device?["model"] as? String == "Raspberry Pi 4")
            let availability = (payload["availability"] as? [[String: Any]])?.first
            #expect(availability?["topic"] as? String == "devices/dev-0001/status")
            #expect(availability?["value_template"] as? String == "{{ value_json.state }}")
            #expect(payload["state_topic"] is String, "\(topic)")
        }
        let door = try #require(messages["homeassistant/binary_sensor/dev-0001/door/config"])
        #expect(door["state_topic"] as? String == "devices/dev-0001/sensors/door")
        #expect(door["payload_on"] as? String == "1" && door["payload_off"] as? String == "0")
        let flow = try #require(messages["homeassistant/sensor/dev-0001/flow_main/config"])
        #expect(flow["value_template"] as? String == "{{ value_json.count }}")
        #expect(flow["state_class"] as? String == "total_increasing")
        let room = try #require(messages["homeassistant/sensor/dev-0001/room/config"])
        #expect(room["device_class"] as? String == "temperature" && room["unit_of_measurement"] as? String == "°C")
        let humidity = try #require(messages["homeassistant/sensor/dev-0001/humidity/config"])
        #expect(humidity["device_class"] as? String == "humidity" && humidity["unit_of_measurement"] as? String == "%")
        let relay = try #require(messages["homeassistant/switch/dev-0001/relay/config"])
        #expect(relay["command_topic"] as? String == "devices/dev-0001/commands/outputs/relay")
        #expect(relay["state_topic"] as? String == "devices/dev-0001/outputs/relay")
        #expect(relay["qos"] as? Int == 0)
    }

    @Test func nothingWithoutTheSection() throws {
        let text = Self.config.replacingOccurrences(of: "[homeassistant]", with: "[homeassistant]\nenabled = false")
        let configuration = try ConfigLoader.parse(text, file: "/etc/pinpost/pinpost.toml")
        #expect(DiscoveryConfigs.messages(for: configuration).isEmpty)
    }

    @Test func subscriptionsStayInTheDevicesNamespaceWhateverIsEnabled() throws {
        let configuration = try ConfigLoader.parse(Self.config, file: "/etc/pinpost/pinpost.toml")
        let filters = PublisherSettings.make(configuration).subscriptions.map(\.topicFilter)
        #expect(filters == ["devices/dev-0001/commands/#"])
        var quiet = configuration
        quiet.commands.enabled = false
        #expect(PublisherSettings.make(quiet).subscriptions.isEmpty)
    }
}
