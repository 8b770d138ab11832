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
        let capacity = max(0, count)
        let bytes: [UInt8]
        do {
            // Not zero-filled first: the kernel writes every byte counted, and zeroing a spool chunk before each
            // read cost more instructions than the read itself.
            bytes = try [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
                let raw = UnsafeMutableRawBufferPointer(buffer)
                while initialized < capacity {
                    let got = try read(
                        fromAbsoluteOffset: offset + Int64(initialized),
                        into: UnsafeMutableRawBufferPointer(rebasing: raw[initialized...])
                    )
                    if got == 0 { break }
                    initialized += got
                }
            }
        } catch {
            throw Errno.of(error)
        }
        // A short read (the end of the file) is copied into an array of its size, not kept at the full capacity.
        return bytes.count == capacity ? bytes : bytes.withUnsafeBufferPointer { Array($0) }
    }
}
