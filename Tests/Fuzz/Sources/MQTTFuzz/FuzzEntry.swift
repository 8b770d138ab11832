/// libFuzzer entry point. The first byte picks the target, so one corpus covers the decoder and the session:
/// even → `DecoderFuzz` (v3.1.1 or 5 by bit 1), odd → `SessionFuzz`. Any crash, trap, sanitizer report or broken
/// invariant (`fuzzCheck`) is a finding; the crashing input becomes a regression test in Tests/MQTTTests.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start, count > 0 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: start, count: count))
    if input[0] & 1 == 0 {
        DecoderFuzz.run(input)
    } else {
        SessionFuzz.run(input)
    }
    return 0
}

/// A broken invariant: stop loudly so libFuzzer saves the input.
func fuzzCheck(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("fuzz invariant broken: \(message())") }
}
