public import SystemPackage

/// Reads that complete: swift-system's `read` returns what one call gave (it retries EINTR), these loop until
/// the count, the end of the file or the limit.
extension FileDescriptor {
    /// Everything from the current position to the end of the file; `Errno.fileTooLarge` past `limit` bytes.
    public func readToEnd(limit: Int) throws(Errno) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count: Int
            do {
                count = try chunk.withUnsafeMutableBytes { try read(into: $0) }
            } catch {
                throw Errno.of(error)
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > limit { throw Errno.fileTooLarge }
        }
    }

    /// Up to `count` bytes from `offset` (fewer only at the end of the file), without moving the file position.
    public func read(count: Int, fromAbsoluteOffset offset: Int64) throws(Errno) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: max(0, count))
        var done = 0
        while done < bytes.count {
            let got: Int
            do {
                got = try bytes.withUnsafeMutableBytes { buffer in
                    try read(
                        fromAbsoluteOffset: offset + Int64(done),
                        into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...])
                    )
                }
            } catch {
                throw Errno.of(error)
            }
            if got == 0 { break }
            done += got
        }
        return done == bytes.count ? bytes : Array(bytes[0..<done])
    }
}
