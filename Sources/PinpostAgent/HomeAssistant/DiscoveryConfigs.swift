/// Home Assistant MQTT discovery: one retained config message per sensor and per output, on
/// `<prefix>/<component>/<node_id>/<object_id>/config` (node id = device id, object id = the name with '.' as '_',
/// both in `[a-zA-Z0-9_-]` as Home Assistant requires), with the device block, and availability bound to the
/// retained status topic (whose Will makes it `offline` when the agent dies).
enum DiscoveryConfigs {
    struct Message: Sendable, Equatable {
        var topic: String
        var payload: String
    }

    static func messages(for configuration: AgentConfiguration) -> [Message] {
        let settings = configuration.homeAssistant
        guard settings.enabled else { return [] }
        let id = configuration.device.id
        let topics = Topics(deviceID: id)
        let commandTopics = CommandTopics(deviceID: id)
        var messages: [Message] = []
        for sensor in configuration.sensors {
            var writer = common(name: sensor.name, id: id, settings: settings, status: topics.status)
            writer.string("state_topic", topics.sensor(sensor.name))
            let component: String
            switch sensor.kind {
            case .digital, .poll:
                component = "binary_sensor"
                writer.string("value_template", "{{ value_json.value }}")
                writer.string("payload_on", "1")
                writer.string("payload_off", "0")
            case .counter:
                component = "sensor"
                writer.string("value_template", "{{ value_json.count }}")
                writer.string("state_class", "total_increasing")
                if let unit = sensor.unit { writer.string("unit_of_measurement", unit) }
            case .ds18b20:
                component = "sensor"
                writer.string("value_template", "{{ value_json.value }}")
                writer.string("state_class", "measurement")
                let unit = sensor.unit ?? "°C"
                if unit == "°C" { writer.string("device_class", "temperature") }
                writer.string("unit_of_measurement", unit)
            case .iio:
                component = "sensor"
                writer.string("value_template", "{{ value_json.value }}")
                writer.string("state_class", "measurement")
                let type = IIOChannel.channelType(channelBase(sensor.channel ?? ""))
                let unit = sensor.unit ?? IIOChannel.units[type]?.unit
                if sensor.unit == nil, let deviceClass = deviceClasses[type] {
                    writer.string("device_class", deviceClass)
                }
                if let unit { writer.string("unit_of_measurement", unit) }
            }
            messages.append(
                Message(topic: topic(settings, component, id, sensor.name), payload: writer.json)
            )
        }
        for output in configuration.outputs {
            var writer = common(name: output.name, id: id, settings: settings, status: topics.status)
            writer.string("state_topic", commandTopics.output(output.name))
            writer.string("value_template", "{{ value_json.state }}")
            writer.string("state_on", "on")
            writer.string("state_off", "off")
            writer.string("command_topic", commandTopics.outputCommand(output.name))
            writer.string("payload_on", "on")
            writer.string("payload_off", "off")
            // The plain command topic takes QoS 0 only (it carries no id to apply a command at most once).
            writer.integer("qos", 0)
            writer.bool("retain", false)
            messages.append(Message(topic: topic(settings, "switch", id, output.name), payload: writer.json))
        }
        return messages
    }

    /// The Home Assistant device classes of IIO channel types whose published unit Home Assistant accepts.
    static let deviceClasses = [
        "temp": "temperature", "humidityrelative": "humidity", "pressure": "pressure", "voltage": "voltage",
        "current": "current", "illuminance": "illuminance",
    ]

    static func topic(
        _ settings: AgentConfiguration.HomeAssistant,
        _ component: String,
        _ id: String,
        _ name: String
    ) -> String {
        "\(settings.prefix)/\(component)/\(id)/\(objectID(name))/config"
    }

    /// A name as a discovery object id: Home Assistant allows `[a-zA-Z0-9_-]`; names may also hold '.'.
    static func objectID(_ name: String) -> String {
        String(name.map { $0 == "." ? "_" : $0 })
    }

    /// `in_temp_input` → `in_temp`, as `IIOChannel` names a channel's base.
    private static func channelBase(_ channel: String) -> String {
        if channel.hasSuffix("_input") { return String(channel.dropLast(6)) }
        if channel.hasSuffix("_raw") { return String(channel.dropLast(4)) }
        return channel
    }

    /// The fields every entity shares: name, unique id, availability on the status topic, device, origin.
    private static func common(
        name: String,
        id: String,
        settings: AgentConfiguration.HomeAssistant,
        status: String
    ) -> JSONObjectWriter {
        var writer = JSONObjectWriter()
        writer.string("name", name)
        writer.string("unique_id", "pinpost_\(id)_\(objectID(name))")
        var availability = JSONObjectWriter()
        availability.string("topic", status)
        availability.string("value_template", "{{ value_json.state }}")
        availability.string("payload_available", "online")
        availability.string("payload_not_available", "offline")
        writer.raw("availability", "[\(availability.json)]")
        var device = JSONObjectWriter()
        device.strings("identifiers", ["pinpost_\(id)"])
        device.string("name", id)
        device.string("model", settings.model)
        device.string("manufacturer", "Pinpost")
        device.string("sw_version", PinpostVersion.current)
        writer.raw("device", device.json)
        var origin = JSONObjectWriter()
        origin.string("name", "pinpost")
        origin.string("sw_version", PinpostVersion.current)
        writer.raw("origin", origin.json)
        return writer
    }
}
