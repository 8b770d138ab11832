import GPIO
import PinpostAgent
import Testing

@Suite("Debounce by monotonic time")
struct SensorDebounceTests {
    func event(_ value: Bool, at milliseconds: UInt64) -> LineEvent {
        LineEvent(
            edge: value ? .rising : .falling,
            timestamp: MonotonicInstant(nanoseconds: 1_000_000_000_000 + milliseconds * 1_000_000)
        )
    }

    func instant(_ milliseconds: UInt64) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: 1_000_000_000_000 + milliseconds * 1_000_000)
    }

    @Test func bouncesCollapseIntoTheFinalStateWithTheLastEdgeTimestamp() {
        var debouncer = Debouncer(initial: false, period: .milliseconds(20), rule: .settle)
        var changes: [Debouncer.Change] = []
        for (value, time) in [(true, 0), (false, 2), (true, 3), (false, 5), (true, 7)] as [(Bool, UInt64)] {
            changes += debouncer.ingest(event(value, at: time))
        }
        #expect(changes.isEmpty)
        #expect(debouncer.settle(now: instant(26)) == nil)  // 19 ms after the last edge: not yet
        let settled = debouncer.settle(now: instant(27))
        #expect(settled == Debouncer.Change(value: true, edge: .rising, timestamp: instant(7)))
        #expect(debouncer.stable == true)
    }

    @Test func aBounceBackToTheStableValueIsNoReading() {
        var debouncer = Debouncer(initial: false, period: .milliseconds(20), rule: .settle)
        _ = debouncer.ingest(event(true, at: 0))
        _ = debouncer.ingest(event(false, at: 4))
        #expect(debouncer.settle(now: instant(100)) == nil)
        #expect(debouncer.stable == false)
    }

    @Test func aRealFinalStateIsNeverLostEvenIfTheTimerIsLate() {
        // The press settled long before the release arrived; the timer never ran in between.
        var debouncer = Debouncer(initial: false, period: .milliseconds(20), rule: .settle)
        _ = debouncer.ingest(event(true, at: 0))
        let changes = debouncer.ingest(event(false, at: 500))
        #expect(changes == [Debouncer.Change(value: true, edge: .rising, timestamp: instant(0))])
        #expect(
            debouncer.settle(now: instant(520))
                == Debouncer.Change(value: false, edge: .falling, timestamp: instant(500))
        )
    }

    @Test func decisionsFollowEventTimestampsNotArrivalOrWallTime() {
        // Two edges 30 ms apart in kernel time are both real, however late they are handled.
        var debouncer = Debouncer(initial: false, period: .milliseconds(20), rule: .settle)
        _ = debouncer.ingest(event(true, at: 0))
        let changes = debouncer.ingest(event(false, at: 30))
        #expect(changes.map(\.value) == [true])
        #expect(debouncer.deadline == instant(50))
    }

    @Test func withoutDebounceEveryEdgeIsAReading() {
        var debouncer = Debouncer(initial: false, period: .zero, rule: .settle)
        let changes = [event(true, at: 0), event(false, at: 1), event(true, at: 2)].flatMap { debouncer.ingest($0) }
        #expect(changes.map(\.value) == [true, false, true])
        #expect(debouncer.deadline == nil)
    }

    @Test func lockoutDropsEdgesWithinThePeriodOfTheLastAcceptedOne() {
        var debouncer = Debouncer(initial: false, period: .milliseconds(10), rule: .lockout)
        let accepted = [0, 3, 9, 10, 25, 30].flatMap { debouncer.ingest(event(true, at: $0)) }
        #expect(accepted.map(\.timestamp) == [instant(0), instant(10), instant(25)])
    }
}

@Suite("Pulse counter")
struct SensorCounterTests {
    @Test func countsPerIntervalTotalAndRate() {
        let start = MonotonicInstant(nanoseconds: 5_000_000_000)
        var counter = PulseCounter(start: start)
        for _ in 0..<25 { counter.count() }
        let first = counter.sample(at: MonotonicInstant(nanoseconds: 15_000_000_000))
        #expect(first == PulseCounter.Sample(pulses: 25, total: 25, rate: 2.5))
        for _ in 0..<5 { counter.count() }
        let second = counter.sample(at: MonotonicInstant(nanoseconds: 20_000_000_000))
        #expect(second == PulseCounter.Sample(pulses: 5, total: 30, rate: 1))
        let idle = counter.sample(at: MonotonicInstant(nanoseconds: 30_000_000_000))
        #expect(idle == PulseCounter.Sample(pulses: 0, total: 30, rate: 0))
    }

    @Test func aZeroLengthIntervalHasRateZero() {
        let start = MonotonicInstant(nanoseconds: 1)
        var counter = PulseCounter(start: start)
        counter.count()
        #expect(counter.sample(at: start).rate == 0)
    }
}
