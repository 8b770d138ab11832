import Publisher
import Testing

@Suite("Exponential back-off with full jitter")
struct BackoffTests {
    @Test func ceilingDoublesUpToTheCap() {
        var backoff = Backoff(base: .seconds(1), cap: .seconds(10))
        var ceilings: [Duration] = []
        for _ in 0..<6 {
            ceilings.append(backoff.currentCeiling)
            _ = backoff.nextDelay(uniform: 0.5)
        }
        #expect(ceilings == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(10), .seconds(10)])
    }

    @Test func delayIsUniformBelowTheCeiling() {
        var backoff = Backoff(base: .seconds(2), cap: .seconds(60))
        #expect(backoff.nextDelay(uniform: 0) == .zero)
        #expect(backoff.nextDelay(uniform: 0.5) == .seconds(2))  // ceiling 4 s
        #expect(backoff.nextDelay(uniform: 0.999) < .seconds(8))
    }

    @Test func resetStartsOver() {
        var backoff = Backoff(base: .seconds(1), cap: .seconds(300))
        for _ in 0..<5 { _ = backoff.nextDelay(uniform: 0.5) }
        backoff.reset()
        #expect(backoff.currentCeiling == .seconds(1))
    }

    @Test func manyAttemptsDoNotOverflow() {
        var backoff = Backoff(base: .seconds(1), cap: .seconds(300))
        for _ in 0..<200 { _ = backoff.nextDelay(uniform: 0.5) }
        #expect(backoff.currentCeiling == .seconds(300))
    }
}
