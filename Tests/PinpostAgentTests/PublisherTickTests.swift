import DurableSpool
import Testing

@testable import PinpostAgent

/// The publisher's timer period decides how late a systemd watchdog ping or a group commit can be.
@Suite("Publisher tick interval")
struct PublisherTickTests {
    @Test func onceASecondWhenNothingAsksForMore() {
        #expect(PublisherService.tickInterval(fsync: .interval(.seconds(5)), watchdogPing: nil) == .seconds(1))
        #expect(PublisherService.tickInterval(fsync: .always, watchdogPing: nil) == .seconds(1))
    }

    @Test func groupCommitShortensIt() {
        #expect(
            PublisherService.tickInterval(fsync: .interval(.milliseconds(200)), watchdogPing: nil) == .milliseconds(200)
        )
    }

    /// WatchdogSec=1s means a ping every 0.5 s; ticking at 0.25 s keeps every ping within 0.75 s of the last.
    @Test func watchdogPingsAtHalfTheirIntervalAtLeast() {
        #expect(
            PublisherService.tickInterval(fsync: .interval(.seconds(1)), watchdogPing: .milliseconds(500))
                == .milliseconds(250)
        )
        #expect(PublisherService.tickInterval(fsync: .always, watchdogPing: .milliseconds(20)) == .milliseconds(50))
    }
}
