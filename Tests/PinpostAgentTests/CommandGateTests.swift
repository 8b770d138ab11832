import Testing
import Timestamps

@testable import PinpostAgent

@Suite("Command time rules")
struct CommandGateTests {
    let now = UTCTime(rfc3339: "2026-12-07T10:00:00Z")!

    func check(
        expires: String? = nil,
        messageExpiry: UInt32? = nil,
        waited: Duration = .zero,
        trusted: Bool = true
    ) -> CommandError.Code? {
        CommandGate.check(
            expires: expires.flatMap(UTCTime.init(rfc3339:)),
            messageExpiry: messageExpiry,
            waited: waited,
            wallNow: now,
            clockTrusted: trusted
        )?.code
    }

    @Test func aCommandWithoutTimeIsAlwaysOnTime() {
        #expect(check() == nil)
        #expect(check(trusted: false) == nil, "without a time, an untrusted clock does not matter")
    }

    @Test func expiresIsJudgedByTheWallClock() {
        #expect(check(expires: "2026-12-07T10:00:01Z") == nil)
        #expect(check(expires: "2026-12-07T10:00:00Z") == .expired, "at the expiry instant it is too late")
        #expect(check(expires: "2026-12-07T06:00:00Z") == .expired, "hours late: never applied")
    }

    @Test func aTimeIsRefusedWhileTheClockIsNotTrusted() {
        #expect(check(expires: "2026-12-07T10:05:00Z", trusted: false) == .clockUntrusted)
        #expect(check(expires: "2026-12-07T06:00:00Z", trusted: false) == .clockUntrusted)
    }

    @Test func theMessageExpiryIntervalRunsFromArrivalOnTheMonotonicClock() {
        #expect(check(messageExpiry: 5, waited: .milliseconds(4999)) == nil)
        #expect(check(messageExpiry: 5, waited: .seconds(5)) == .expired)
        #expect(check(messageExpiry: 0) == .expired)
        #expect(check(messageExpiry: 5, waited: .seconds(6), trusted: false) == .expired, "needs no wall clock")
    }
}
