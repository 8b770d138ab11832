import MQTT
import Testing

@Suite("Reason codes")
struct ReasonCodeTests {
    @Test("readable descriptions and failure threshold 0x80")
    func descriptions() {
        #expect(ReasonCode.notAuthorized.description == "Not authorized (0x87)")
        #expect(ReasonCode.sessionTakenOver.description == "Session taken over (0x8E)")
        #expect(ReasonCode.success.description == "Success (0x00)")
        #expect(ReasonCode(rawValue: 0xFE).description == "Unknown failure (0xFE)")
        #expect(ReasonCode.unspecifiedError.isFailure)
        #expect(!ReasonCode.noMatchingSubscribers.isFailure)
        #expect(ReasonCode.keepAliveTimeout.rawValue == 0x8D)
    }

    @Test("v3.1.1 CONNACK return codes map to v5 reason codes and text")
    func v3ReturnCodes() {
        #expect(ReasonCode(v3ConnectReturnCode: 1) == .unsupportedProtocolVersion)
        #expect(ReasonCode(v3ConnectReturnCode: 2) == .clientIdentifierNotValid)
        #expect(ReasonCode(v3ConnectReturnCode: 3) == .serverUnavailable)
        #expect(ReasonCode(v3ConnectReturnCode: 4) == .badUserNameOrPassword)
        #expect(ReasonCode(v3ConnectReturnCode: 5) == .notAuthorized)
        #expect(ReasonCode(v3ConnectReturnCode: 6) == nil)
        #expect(ReasonCode.v3ConnectReturnCodeDescription(5) == "Connection Refused, not authorized (5)")
        #expect(ReasonCode.notAuthorized.v3ConnectReturnCode == 5)
    }

    @Test("codec errors are readable")
    func codecErrorDescription() {
        let error = decodeError([0x30, 0xFF, 0xFF, 0xFF, 0xFF], version: .v5)
        #expect(error?.description.contains("malformed remaining length") == true)
    }
}
