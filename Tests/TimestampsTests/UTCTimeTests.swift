import Testing
import Timestamps

@Suite("UTC time formatting")
struct UTCTimeTests {
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"),
        (Int64(951_782_400_123), "2000-02-29T00:00:00.123Z"),  // leap day of a century leap year
        (Int64(1_795_392_000_999), "2026-11-23T00:00:00.999Z"),
        (Int64(4_107_542_399_000), "2100-02-28T23:59:59.000Z"),  // 2100 is not a leap year
        (Int64(-1), "1969-12-31T23:59:59.999Z"),
    ])
    func formatsRFC3339WithMilliseconds(milliseconds: Int64, expected: String) {
        #expect(UTCTime(epochMilliseconds: milliseconds).rfc3339 == expected)
    }

    @Test func secondsFormatDropsMilliseconds() {
        #expect(UTCTime(epochMilliseconds: 1_795_392_000_999).rfc3339Seconds == "2026-11-23T00:00:00Z")
    }
}
