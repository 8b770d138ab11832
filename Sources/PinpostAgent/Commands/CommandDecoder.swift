internal import GPIO
internal import Timestamps

/// Turns a command payload into a `CommandRequest`, or a refusal that names the field: every field is checked
/// for presence, type and value, and a field the command does not have is refused too.
enum CommandDecoder {
    /// Larger payloads are refused before parsing (a whole config for `apply_config` fits many times).
    static let maximumPayload = 65_536
    /// Shortest and longest `pulse` a command may ask for.
    static let pulseRange = Duration.milliseconds(1)...Duration.seconds(3600)

    /// A refusal, with the id and command name when they could be read (so the reply can carry them).
    struct Failure: Error, Sendable, Equatable {
        var id: String?
        var command: String?
        var error: CommandError
    }

    static let commandNames = ["set_output", "read_sensor", "publish_status", "apply_config", "ping"]

    static func decode(_ payload: [UInt8]) throws(Failure) -> CommandRequest {
        guard payload.count <= maximumPayload else {
            throw Failure(
                error: CommandError(
                    .tooLarge,
                    "the payload has \(payload.count) bytes; at most \(maximumPayload) are accepted"
                )
            )
        }
        let document: JSONValue
        do {
            document = try JSONValue.parse(payload)
        } catch {
            throw Failure(error: CommandError(.malformed, "not JSON: \(error)"))
        }
        guard case .object(let members) = document else {
            throw Failure(error: CommandError(.malformed, "expected a JSON object, found \(document.typeName)"))
        }
        var fields = Fields(members: members)
        let id: String
        do throws(CommandError) {
            id = try fields.string("id")
        } catch {
            throw Failure(error: error)
        }
        guard (1...128).contains(id.utf8.count), id.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw Failure(
                error: CommandError(
                    .badValue,
                    field: "id",
                    "an id is 1-128 printable ASCII characters without spaces"
                )
            )
        }
        var name: String?
        do throws(CommandError) {
            let command = try fields.string("command")
            name = command
            let expires = try fields.optionalString("expires").map { text throws(CommandError) -> UTCTime in
                guard let time = UTCTime(rfc3339: text) else {
                    throw CommandError(
                        .badValue,
                        field: "expires",
                        "'\(text.prefix(40))' is not an RFC 3339 time such as 2026-12-07T10:00:00Z"
                    )
                }
                return time
            }
            let action: CommandRequest.Action
            switch command {
            case "set_output":
                let output = try fields.string("output")
                let valueText = try fields.string("value")
                guard let value = CommandRequest.OutputValue(rawValue: valueText) else {
                    throw CommandError(
                        .badValue,
                        field: "value",
                        "'\(valueText.prefix(40))' is not a value; use \"on\", \"off\" or \"toggle\""
                    )
                }
                let pulse = try fields.optionalString("pulse").map { text throws(CommandError) -> Duration in
                    guard let duration = DurationText.parse(text), pulseRange.contains(duration) else {
                        throw CommandError(
                            .badValue,
                            field: "pulse",
                            "'\(text.prefix(40))' is not a duration from 1ms to 1h, such as \"500ms\" or \"2s\""
                        )
                    }
                    return duration
                }
                action = .setOutput(output: output, value: value, pulse: pulse)
            case "read_sensor":
                action = .readSensor(sensor: try fields.string("sensor"))
            case "publish_status":
                action = .publishStatus
            case "apply_config":
                action = .applyConfig(text: try fields.optionalString("config"))
            case "ping":
                action = .ping
            default:
                throw CommandError(
                    .unknownCommand,
                    field: "command",
                    "'\(command.prefix(40))' is not a command; use one of \(commandNames.joined(separator: ", "))"
                )
            }
            try fields.refuseUnread(command: command)
            return CommandRequest(id: id, name: command, action: action, expires: expires)
        } catch {
            throw Failure(id: id, command: name, error: error)
        }
    }

    /// The object's members, remembering which were read so the rest can be refused.
    private struct Fields {
        let members: [(key: String, value: JSONValue)]
        var read: Set<String> = []

        init(members: [(key: String, value: JSONValue)]) {
            self.members = members
        }

        mutating func optionalString(_ key: String) throws(CommandError) -> String? {
            read.insert(key)
            guard let value = members.first(where: { $0.key == key })?.value else { return nil }
            guard case .string(let text) = value else {
                throw CommandError(.wrongType, field: key, "expected a string, found \(value.typeName)")
            }
            return text
        }

        mutating func string(_ key: String) throws(CommandError) -> String {
            guard let text = try optionalString(key) else {
                throw CommandError(.missingField, field: key, "the field \"\(key)\" is required")
            }
            return text
        }

        func refuseUnread(command: String) throws(CommandError) {
            if let unknown = members.first(where: { !read.contains($0.key) }) {
                let known = read.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
                throw CommandError(
                    .unknownField,
                    field: unknown.key,
                    "\(command) has no field \"\(unknown.key.prefix(40))\"; its fields are \(known)"
                )
            }
        }
    }
}
