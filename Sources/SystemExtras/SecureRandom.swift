internal import SystemPackage

/// Random bytes from the kernel's CSPRNG (/dev/urandom), e.g. to overwrite a secret before unlinking it.
public enum SecureRandom {
    /// Fills the first `count` bytes of `buffer`.
    public static func fill(_ buffer: inout [UInt8], count: Int) throws(SystemError) {
        let source = try FileSystem.open("/dev/urandom", .readOnly)
        defer { try? source.close() }
        var filled = 0
        while filled < min(count, buffer.count) {
            let got: Int
            do {
                got = try buffer.withUnsafeMutableBytes { raw in
                    try source.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[filled..<min(count, raw.count)]))
                }
            } catch {
                throw SystemError(Errno.of(error), "cannot read", path: "/dev/urandom")
            }
            guard got > 0 else { throw SystemError(.ioError, "cannot read", path: "/dev/urandom") }
            filled += got
        }
    }
}
