internal import Timestamps

/// A decoded command: what to do, the id that makes it apply at most once, and when it stops being valid.
struct CommandRequest: Sendable, Equatable {
    enum OutputValue: String, Sendable, Equatable, CaseIterable {
        case on
        case off
        case toggle
    }

    enum Action: Sendable, Equatable {
        /// Drive an output; with `pulse`, go back to the previous state after that long.
        case setOutput(output: String, value: OutputValue, pulse: Duration?)
        /// Take a reading of the sensor now (published like any reading) and reply with it.
        case readSensor(sensor: String)
        /// Publish the retained status message now.
        case publishStatus
        /// Reload the config file, or (`[commands] apply_config = "replace"`) replace it with `text` first.
        case applyConfig(text: String?)
        case ping
    }

    /// The operator's id, echoed in the reply and remembered so a redelivery is not applied again.
    var id: String
    /// The `"command"` name as sent (`set_output`, ...).
    var name: String
    var action: Action
    /// The `"expires"` time: after it the command is refused, never applied late.
    var expires: UTCTime?
}
