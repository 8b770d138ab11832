import GPIO
import Testing

@Suite("Simulated GPIO backend")
struct SimulatedGPIOTests {
    let door = LineAddress(chip: "gpiochip0", line: .offset(17))

    @Test func toggleProducesAlternatingEdgesWithIncreasingTimestamps() async throws {
        let backend = SimulatedGPIO(waveforms: [door: .toggle(period: .milliseconds(5))])
        let line = try await backend.requestInput(InputLineRequest(address: door))
        #expect(try await line.read() == false)
        var events: [LineEvent] = []
        for try await event in line.events() {
            events.append(event)
            if events.count == 6 { break }
        }
        await line.release()
        #expect(events.map(\.edge) == [.rising, .falling, .rising, .falling, .rising, .falling])
        #expect(zip(events, events.dropFirst()).allSatisfy { $0.timestamp < $1.timestamp })
    }

    @Test func risingOnlyRequestSeesOnlyRisingEdges() async throws {
        let backend = SimulatedGPIO(waveforms: [door: .toggle(period: .milliseconds(3))])
        let line = try await backend.requestInput(InputLineRequest(address: door, edges: .rising))
        var edges: [Edge] = []
        for try await event in line.events() {
            edges.append(event.edge)
            if edges.count == 3 { break }
        }
        await line.release()
        #expect(edges == [.rising, .rising, .rising])
    }

    @Test func aLineHeldByOneConsumerIsBusyForTheNext() async throws {
        let backend = SimulatedGPIO(waveforms: [:])
        let first = try await backend.requestInput(InputLineRequest(address: door, consumer: "gpioset"))
        await #expect(throws: GPIOError.self) {
            _ = try await backend.requestInput(InputLineRequest(address: door))
        }
        do {
            _ = try await backend.requestInput(InputLineRequest(address: door))
        } catch {
            #expect(error.code == .busy)
            #expect(error.description.contains("gpiochip0 line 17"))
            #expect(error.description.contains("gpioset"))
        }
        await first.release()
        let again = try await backend.requestInput(InputLineRequest(address: door))
        await again.release()
    }

    @Test func releasedLineEndsItsEventStream() async throws {
        let backend = SimulatedGPIO(waveforms: [door: .constant(true)])
        let line = try await backend.requestInput(InputLineRequest(address: door))
        #expect(try await line.read() == true)
        let stream = line.events()
        await line.release()
        var count = 0
        for try await _ in stream { count += 1 }
        #expect(count == 0)
        await #expect {
            try await line.read()
        } throws: { error in
            (error as? GPIOError)?.code == .notRequested
        }
    }
}
