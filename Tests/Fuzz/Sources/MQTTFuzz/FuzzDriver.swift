/// SwiftPM links executables with `main` aliased to `<Target>_main`, which a `-parse-as-library` build does not
/// define; libFuzzer's own `main` is then never used. This stand-in hands control to libFuzzer's driver, so the
/// usual flags (`-max_total_time=`, corpus folders, crash replays) work as in any libFuzzer binary.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@_cdecl("MQTTFuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { fuzzOneInput($0, $1) }
}
