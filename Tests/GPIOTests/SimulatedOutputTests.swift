import GPIO
import Testing

@Suite("Simulated GPIO output lines")
struct SimulatedOutputTests {
    let relay = LineAddress(chip: "gpiochip0", line: .offset(22))

    @Test func anOutputStartsAtItsInitialLevelAndCountsOnlyChanges() async throws {
        let backend = SimulatedGPIO(waveforms: [:])
        let line = try await backend.requestOutput(OutputLineRequest(address: relay, initialValue: true))
        #expect(backend.outputState(relay) == SimulatedOutputState(value: true, transitions: 0))
        try await line.set(true)
        #expect(backend.outputState(relay)?.transitions == 0, "setting the same level is no transition")
        try await line.set(false)
        try await line.set(true)
        #expect(backend.outputState(relay) == SimulatedOutputState(value: true, transitions: 2))
        await line.release()
        #expect(backend.outputState(relay) == nil)
        await #expect(throws: GPIOError.self) { try await line.set(false) }
    }

    @Test func anOutputLineIsBusyForAnInputAndAnotherOutput() async throws {
        let backend = SimulatedGPIO(waveforms: [:])
        let line = try await backend.requestOutput(OutputLineRequest(address: relay, initialValue: false))
        do {
            _ = try await backend.requestInput(InputLineRequest(address: relay))
            Issue.record("an input claimed a line an output holds")
        } catch {
            #expect(error.code == .busy)
            #expect(error.message.contains("consumer 'pinpost'"))
        }
        await #expect(throws: GPIOError.self) {
            _ = try await backend.requestOutput(OutputLineRequest(address: relay, initialValue: true))
        }
        await line.release()
        let again = try await backend.requestOutput(OutputLineRequest(address: relay, initialValue: true))
        #expect(backend.outputState(relay)?.value == true)
        await again.release()
    }
}
