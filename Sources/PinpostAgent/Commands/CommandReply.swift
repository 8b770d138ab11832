internal import Timestamps

/// A reply, as published: `{"id":"c-1","ok":true,"command":"set_output",...}` or
/// `{"id":"c-1","ok":false,"command":"set_output","error":{"code":"...","field":"...","message":"..."}}`.
struct CommandReply: Sendable, Equatable {
    /// A result field's value.
    enum Value: Sendable, Equatable {
        case string(String)
        case integer(Int64)
        case number(Double)
        case bool(Bool)
        case strings([String])
        case null
    }

    typealias Fields = [ReplyField]

    /// The command's id (nil when it could not be read).
    var id: String?
    /// The command's name, when it could be read.
    var command: String?
    var outcome: Result<Fields, CommandError>
    /// A redelivery of a command already handled: this repeats the first outcome and nothing was done again.
    var firstHandled: UTCTime? = nil

    var bytes: [UInt8] {
        var writer = JSONObjectWriter()
        writer.string("id", id)
        switch outcome {
        case .success(let fields):
            writer.bool("ok", true)
            if let command { writer.string("command", command) }
            for field in fields {
                switch field.value {
                case .string(let text): writer.string(field.name, text)
                case .integer(let number): writer.integer(field.name, number)
                case .number(let number): writer.number(field.name, number)
                case .bool(let flag): writer.bool(field.name, flag)
                case .strings(let texts): writer.strings(field.name, texts)
                case .null: writer.string(field.name, nil)
                }
            }
        case .failure(let error):
            writer.bool("ok", false)
            if let command { writer.string("command", command) }
            writer.raw("error", error.json)
        }
        if let firstHandled {
            writer.bool("duplicate", true)
            writer.string("first_handled", firstHandled.rfc3339)
        }
        return writer.bytes
    }
}

/// One named field of a successful reply.
struct ReplyField: Sendable, Equatable {
    var name: String
    var value: CommandReply.Value

    init(_ name: String, _ value: CommandReply.Value) {
        self.name = name
        self.value = value
    }
}
