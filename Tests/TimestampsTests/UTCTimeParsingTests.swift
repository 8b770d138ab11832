import Testing
import Timestamps

@Suite("UTC time parsing")
struct UTCTimeParsingTests {
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"),
        (Int64(951_782_400_123), "2000-02-29T00:00:00.123Z"),
        (Int64(1_795_392_000_999), "2026-11-23T00:00:00.999Z"),
        (Int64(4_107_542_399_000), "2100-02-28T23:59:59.000Z"),
        (Int64(-1), "1969-12-31T23:59:59.999Z"),
    ])
    func readsWhatItWrites(milliseconds: Int64, text: String) {
        #expect(UTCTime(rfc3339: text)?.epochMilliseconds == milliseconds)
    }

    @Test func offsetsFractionsAndLowercase() {
        let reference = UTCTime(rfc3339: "2026-12-07T10:00:00Z")
        #expect(reference != nil)
        #expect(UTCTime(rfc3339: "2026-12-07T11:30:00+01:30") == reference)
        #expect(UTCTime(rfc3339: "2026-12-07T08:00:00-02:00") == reference)
        #expect(UTCTime(rfc3339: "2026-12-07t10:00:00z") == reference)
        #expect(UTCTime(rfc3339: "2026-12-07T10:00:00.5Z")?.epochMilliseconds == reference!.epochMilliseconds + 500)
        #expect(
            UTCTime(rfc3339: "2026-12-07T10:00:00.123456Z")?.epochMilliseconds == reference!.epochMilliseconds + 123
        )
    }

    @Test(arguments: [
        "", "2026-12-07", "2026-12-07T10:00:00", "2026-02-29T10:00:00Z", "2026-13-01T00:00:00Z",
        "2026-12-07T24:00:00Z", "2026-12-07T10:00:00.Z", "2026-12-07T10:00:00+0100", "2026-12-07 10:00:00Z",
        "2026-12-07T10:00:00Zjunk", "1e9",
    ])
    func refusesWhatIsNotRFC3339(text: String) {
        #expect(UTCTime(rfc3339: text) == nil)
    }
}
