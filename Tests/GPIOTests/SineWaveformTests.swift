import GPIO
import Testing

@Suite("sine waveform for analog sensors")
struct SineWaveformTests {
    @Test func parses() throws {
        #expect(try Waveform(parsing: "sine:60s,18,24") == .sine(period: .seconds(60), min: 18, max: 24))
        #expect(try Waveform(parsing: "sine:1.5s, -5.5, 3") == .sine(period: .milliseconds(1500), min: -5.5, max: 3))
        #expect(try Waveform(parsing: "sine:60s,18,24").isAnalog)
        #expect(try !Waveform(parsing: "toggle:1s").isAnalog)
    }

    @Test(arguments: ["sine:60s,24,18", "sine:0s,1,2", "sine:60s,1", "sine:60s,a,2", "sine:,1,2", "sine:60s,1,2,3"])
    func refusesMalformed(text: String) {
        #expect(throws: WaveformError.self) { try Waveform(parsing: text) }
    }

    @Test func followsTheSineBetweenMinAndMax() throws {
        let wave = Waveform.sine(period: .seconds(40), min: 10, max: 30)
        #expect(abs(wave.value(after: .zero) - 20) < 1e-9)
        #expect(abs(wave.value(after: .seconds(10)) - 30) < 1e-9)  // quarter period: max
        #expect(abs(wave.value(after: .seconds(20)) - 20) < 1e-9)
        #expect(abs(wave.value(after: .seconds(30)) - 10) < 1e-9)  // three quarters: min
        for step in 0..<400 {
            let value = wave.value(after: .milliseconds(step * 100))
            #expect(value >= 10 - 1e-9 && value <= 30 + 1e-9)
        }
        #expect(wave.delayUntilNextFlip(uniform: 0.5) == nil)
    }

    @Test func simulatedLineCanBeSetByHand() async throws {
        let address = LineAddress(chip: "gpiochip0", line: .offset(4))
        let gpio = SimulatedGPIO(waveforms: [:])
        let line = try await gpio.requestInput(InputLineRequest(address: address, activeLow: true))
        var events = line.events().makeAsyncIterator()
        try gpio.set(address, to: true)
        let event = try await events.next()
        #expect(event?.edge == .rising)
        #expect(try await line.read() == true)
        #expect(throws: GPIOError.self) { try gpio.set(LineAddress(chip: "gpiochip0", line: .offset(5)), to: true) }
        await line.release()
    }
}
