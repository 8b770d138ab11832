internal import CPinpostGPIODShims
internal import SystemPackage

/// An output line claimed through libgpiod; setting it is one ioctl, serialized with release by the handle's lock.
final class LibgpiodOutputLine: GPIOOutputLine {
    let request: OutputLineRequest
    let found: FoundLine
    private let handle: LineHandle

    init(request: OutputLineRequest, handle: LineHandle, found: FoundLine) {
        self.request = request
        self.handle = handle
        self.found = found
    }

    func set(_ value: Bool) async throws(GPIOError) {
        let status = handle.withPointer { CPinpostGPIOD_set_value($0, value ? 1 : 0) }
        guard let status else { throw GPIOError(.notRequested, "\(request.address) was released") }
        guard status == 0 else {
            throw GPIOError(
                .writeFailed,
                "\(found.chipText) line \(found.offset): setting the value failed: \(Errno(rawValue: -status))"
            )
        }
    }

    func release() async {
        handle.release()
    }
}
