import Foundation
import Testing

/// The libgpiod backend against a real kernel GPIO chip (gpio-sim) in a QEMU guest, with a broker.
///
/// Runs `board/gpio-sim/run-test`, which builds the kernel once per machine (cached under
/// ~/.cache/pinpost-gpio-sim: 4-8 minutes the first time, seconds after), boots the guest and decides
/// pass/fail from the guest's console markers; this test also reads those markers itself.
/// Set PINPOST_SKIP_GPIO_SIM=1 to skip (e.g. a machine without apt or root).
@Suite("gpio-sim in QEMU", .serialized, .childProcessesEndWithTheTest)
struct GPIOSimKernelTests {
    static var enabled: Bool { ProcessInfo.processInfo.environment["PINPOST_SKIP_GPIO_SIM"] != "1" }

    @Test(
        "every flip on a real GPIO chip becomes exactly one reading; busy line and missing chip are clear errors",
        .enabled(if: enabled),
        .timeLimit(.minutes(30))
    )
    func realKernelChip() async throws {
        let script = Repository.root.appendingPathComponent("board/gpio-sim/run-test").path
        let result = try await Command.run(
            script,
            ["--binary", try Repository.agentBinary],
            timeout: .seconds(25 * 60)
        )
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(result.status == 0, "run-test failed:\n\(lines.suffix(60).joined(separator: "\n"))")
        #expect(lines.contains("PINPOST-GPIO-SIM PASS"))

        // Second opinion on the markers: the door's readings in order, decoded as JSON.
        let door =
            try lines
            .filter { $0.hasPrefix("PINPOST-READING devices/gpio-sim-0001/sensors/door ") }
            .map { line -> [String: Any] in
                let json = line.split(separator: " ", maxSplits: 2)[2]
                return try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] ?? [:]
            }
        #expect(door.map { $0["value"] as? Int } == [0, 1, 0, 1, 0])
        #expect(door.map { $0["edge"] as? String } == [nil, "rising", "falling", "rising", "falling"])
        let busy = lines.filter { $0.hasPrefix("PINPOST-BUSY-OUTPUT") }.joined(separator: "\n")
        #expect(busy.contains("line 5") && busy.contains("gpiochip0") && busy.contains("consumer 'gpioset'"))
    }
}
