import Testing
import Timestamps

@testable import PinpostAgent

@Suite("Command payloads")
struct CommandDecoderTests {
    func decode(_ text: String) throws(CommandDecoder.Failure) -> CommandRequest {
        try CommandDecoder.decode(Array(text.utf8))
    }

    func refusal(_ text: String) -> CommandDecoder.Failure? {
        do {
            let request = try decode(text)
            Issue.record("accepted: \(request)")
            return nil
        } catch {
            return error
        }
    }

    @Test func theMinimalContractDecodes() throws {
        let request = try decode(#"{"id":"c-1","command":"set_output","output":"relay","value":"on"}"#)
        #expect(
            request
                == CommandRequest(
                    id: "c-1",
                    name: "set_output",
                    action: .setOutput(output: "relay", value: .on, pulse: nil)
                )
        )
        #expect(
            try decode(#"{"id":"c-2","command":"read_sensor","sensor":"door"}"#).action == .readSensor(sensor: "door")
        )
        #expect(try decode(#"{"id":"c-3","command":"publish_status"}"#).action == .publishStatus)
        #expect(try decode(#"{"id":"c-4","command":"apply_config"}"#).action == .applyConfig(text: nil))
        #expect(try decode(#"{"id":"c-5","command":"ping"}"#).action == .ping)
    }

    @Test func extensionsDecode() throws {
        let request = try decode(
            #"{"command":"set_output","id":"c-1","output":"relay","value":"toggle","pulse":"500ms","expires":"2026-12-07T10:00:00Z"}"#
        )
        #expect(request.action == .setOutput(output: "relay", value: .toggle, pulse: .milliseconds(500)))
        #expect(request.expires == UTCTime(rfc3339: "2026-12-07T10:00:00Z"))
        let config = try decode(#"{"id":"c-2","command":"apply_config","config":"[device]\nid = \"x\"\n"}"#)
        #expect(config.action == .applyConfig(text: "[device]\nid = \"x\"\n"))
    }

    @Test(arguments: [
        // (payload, code, field, id the reply can still carry)
        ("not json", "malformed", nil, nil),
        ("[1,2]", "malformed", nil, nil),
        (#"{"id":"a","id":"b","command":"ping"}"#, "malformed", nil, nil),
        (#"{"command":"ping"}"#, "missing_field", "id", nil),
        (#"{"id":7,"command":"ping"}"#, "wrong_type", "id", nil),
        (#"{"id":"has space","command":"ping"}"#, "bad_value", "id", nil),
        (#"{"id":"c","command":"reboot"}"#, "unknown_command", "command", "c"),
        (#"{"id":"c"}"#, "missing_field", "command", "c"),
        (#"{"id":"c","command":"set_output","value":"on"}"#, "missing_field", "output", "c"),
        (#"{"id":"c","command":"set_output","output":"relay","value":"dim"}"#, "bad_value", "value", "c"),
        (#"{"id":"c","command":"set_output","output":"relay","value":true}"#, "wrong_type", "value", "c"),
        (#"{"id":"c","command":"set_output","output":"relay","value":"on","pulse":"2h"}"#, "bad_value", "pulse", "c"),
        (#"{"id":"c","command":"set_output","output":"relay","value":"on","pulse":"1us"}"#, "bad_value", "pulse", "c"),
        (#"{"id":"c","command":"set_output","output":"relay","value":"on","puls":"2s"}"#, "unknown_field", "puls", "c"),
        (#"{"id":"c","command":"ping","expires":"tomorrow"}"#, "bad_value", "expires", "c"),
        (#"{"id":"c","command":"read_sensor","sensor":["door"]}"#, "wrong_type", "sensor", "c"),
    ])
    func refusalsNameTheField(payload: String, code: String, field: String?, id: String?) {
        let failure = refusal(payload)
        #expect(failure?.error.code.rawValue == code, "\(String(describing: failure))")
        #expect(failure?.error.field == field, "\(String(describing: failure))")
        #expect(failure?.id == id)
        #expect(failure?.error.message.isEmpty == false)
    }

    @Test func aPayloadOverTheLimitIsRefusedBeforeParsing() {
        let payload = [UInt8](repeating: UInt8(ascii: " "), count: CommandDecoder.maximumPayload + 1)
        do {
            _ = try CommandDecoder.decode(payload)
            Issue.record("accepted")
        } catch {
            #expect(error.error.code == .tooLarge)
        }
    }

    @Test func theJSONParserFollowsRFC8259() throws {
        #expect(
            try JSONValue.parse(Array(#" {"a":[1,-2.5e3,true,null],"b":"\u00e9\n\ud83d\ude00"} "#.utf8))
                == .object([
                    ("a", .array([.number(1), .number(-2500), .bool(true), .null])),
                    ("b", .string("é\n😀")),
                ])
        )
        for bad in ["{\"a\":01}", "{\"a\":1,}", "\"\u{01}\"", "{\"a\" 1}", "[1] [2]", "\"\\x\"", "nul", "1."] {
            #expect(throws: JSONParseError.self, "\(bad)") { try JSONValue.parse(Array(bad.utf8)) }
        }
        let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(Array(deep.utf8)) }
    }

    @Test func repliesFollowTheContract() {
        let ok = CommandReply(
            id: "c-1",
            command: "set_output",
            outcome: .success([ReplyField("output", .string("relay")), ReplyField("state", .string("on"))])
        )
        #expect(
            String(decoding: ok.bytes, as: UTF8.self)
                == #"{"id":"c-1","ok":true,"command":"set_output","output":"relay","state":"on"}"#
        )
        let failed = CommandReply(
            id: nil,
            outcome: .failure(CommandError(.malformed, "not JSON: \"x\""))
        )
        #expect(
            String(decoding: failed.bytes, as: UTF8.self)
                == #"{"id":null,"ok":false,"error":{"code":"malformed","field":null,"message":"not JSON: \"x\""}}"#
        )
    }
}
