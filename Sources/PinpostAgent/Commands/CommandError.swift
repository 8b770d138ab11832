/// Why a command was refused: a stable code for programs, the payload field it is about (nil when none is), and a
/// message for people. Published as the reply's `"error"` object.
struct CommandError: Error, Sendable, Equatable {
    /// The `"code"` of a refusal; the raw values are part of the documented contract (README, Commands).
    enum Code: String, Sendable, Equatable, CaseIterable {
        /// The payload is larger than `CommandDecoder.maximumPayload`.
        case tooLarge = "too_large"
        /// Not JSON, not a JSON object, or a key given twice.
        case malformed
        case missingField = "missing_field"
        case wrongType = "wrong_type"
        /// The right type but a value outside what the field accepts.
        case badValue = "bad_value"
        /// A field the command does not have (a misspelt `pulse` must not switch a relay for good).
        case unknownField = "unknown_field"
        case unknownCommand = "unknown_command"
        case unknownOutput = "unknown_output"
        case unknownSensor = "unknown_sensor"
        /// Published under `devices/<id>/commands/` on a topic the agent does not serve.
        case unknownTopic = "unknown_topic"
        /// The MQTT 5 Response Topic is outside `devices/<id>/replies`, where the device may not publish.
        case badResponseTopic = "bad_response_topic"
        /// The plain output topic (no id, no at-most-once record) takes QoS 0 only.
        case qosNotAllowed = "qos_not_allowed"
        /// Older than its `expires` time or its MQTT 5 Message Expiry Interval: never applied late.
        case expired
        /// Delivered as a retained message: an old command the broker hands to every new subscription, never applied.
        case retained
        /// It carries a time, and the device's clock is not trusted to judge it.
        case clockUntrusted = "clock_untrusted"
        /// `[commands]` does not allow it (`apply_config`).
        case notAllowed = "not_allowed"
        /// The new configuration failed validation; the running one stays.
        case configInvalid = "config_invalid"
        /// The new configuration changes keys that only a restart applies; nothing was applied.
        case restartRequired = "restart_required"
        /// The accepted configuration could not be written over the config file; nothing changed.
        case configNotWritable = "config_not_writable"
        /// The output line could not be driven.
        case gpioFailed = "gpio_failed"
        /// The sensor could not be read.
        case sensorFailed = "sensor_failed"
        /// The command's id could not be recorded, so applying it could not be kept to at most once.
        case storageFailed = "storage_failed"
    }

    var code: Code
    /// The payload field the refusal is about (`"value"`, `"output"`, ...), or nil.
    var field: String?
    var message: String

    init(_ code: Code, field: String? = nil, _ message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    /// `{"code":"bad_value","field":"value","message":"..."}`
    var json: String {
        var writer = JSONObjectWriter()
        writer.string("code", code.rawValue)
        writer.string("field", field)
        writer.string("message", message)
        return writer.json
    }
}
