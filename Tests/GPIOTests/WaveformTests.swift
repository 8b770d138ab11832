import GPIO
import Testing

@Suite("Waveform parsing and timing")
struct WaveformTests {
    @Test(arguments: [
        ("toggle:100ms", Waveform.toggle(period: .milliseconds(100))),
        ("toggle:1.5s", Waveform.toggle(period: .milliseconds(1500))),
        ("pulses:10/s", Waveform.pulses(perSecond: 10)),
        ("pulses:4", Waveform.pulses(perSecond: 4)),
        ("random:2s", Waveform.random(meanInterval: .seconds(2))),
        ("constant:1", Waveform.constant(true)),
        ("constant:low", Waveform.constant(false)),
    ])
    func parses(text: String, expected: Waveform) throws {
        #expect(try Waveform(parsing: text) == expected)
    }

    @Test(arguments: [
        "toggle", "toggle:", "toggle:0ms", "toggle:fast", "blink:1s", "pulses:-3", "constant:2", "random:",
    ])
    func refusesWithAnExplanation(text: String) {
        #expect(throws: WaveformError.self) { try Waveform(parsing: text) }
        do {
            _ = try Waveform(parsing: text)
        } catch {
            #expect(error.description.contains("toggle:<duration>"))
        }
    }

    @Test func toggleFlipsEveryPeriod() {
        #expect(Waveform.toggle(period: .milliseconds(100)).delayUntilNextFlip(uniform: 0.7) == .milliseconds(100))
    }

    @Test func pulsesAreASquareWaveAtTheRate() {
        // 10 pulses per second: a flip every 50 ms (rising and falling edge per pulse).
        #expect(Waveform.pulses(perSecond: 10).delayUntilNextFlip(uniform: 0.1) == .milliseconds(50))
    }

    @Test func constantNeverFlips() {
        #expect(Waveform.constant(true).delayUntilNextFlip(uniform: 0.5) == nil)
        #expect(Waveform.constant(true).initialValue == true)
    }

    @Test func randomIntervalsAverageTheMean() {
        let waveform = Waveform.random(meanInterval: .seconds(1))
        // Deterministic uniform grid: the mean of -ln(1-u) over [0,1) is 1.
        let count = 10_000
        var total = Duration.zero
        for index in 0..<count {
            total += waveform.delayUntilNextFlip(uniform: (Double(index) + 0.5) / Double(count))!
        }
        let mean = Double(total.components.seconds) + Double(total.components.attoseconds) * 1e-18
        #expect(abs(mean / Double(count) - 1.0) < 0.01)
    }
}

@Suite("Durations in config text")
struct DurationTextTests {
    @Test(arguments: [
        ("100ms", Duration.milliseconds(100)),
        ("2s", Duration.seconds(2)),
        ("0.25s", Duration.milliseconds(250)),
        ("5m", Duration.seconds(300)),
        ("1h", Duration.seconds(3600)),
        ("250us", Duration.microseconds(250)),
    ])
    func parses(text: String, expected: Duration) {
        #expect(DurationText.parse(text) == expected)
    }

    @Test(arguments: ["", "ms", "10", "10 parsecs", "-1s", "1e3s"])
    func refuses(text: String) {
        #expect(DurationText.parse(text) == nil)
    }
}
