import SystemPackage
import Testing

@testable import SystemExtras

/// `read(count:fromAbsoluteOffset:)` fills its array straight from the kernel (no zeroing first): every byte it
/// returns must be the file's, and a read that meets the end returns only what the file held.
@Suite("Reads at an offset")
struct PositionalReadTests {
    @Test func returnsExactlyTheFilesBytesAtEveryOffsetAndLength() throws {
        let folder = try TemporaryFolder()
        let path = folder.file("segment")
        let content = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        try FileSystem.writeFileAtomically(path, content)
        let descriptor = try FileDescriptor.open(FilePath(path), .readOnly)
        defer { try? descriptor.close() }
        let cases: [(offset: Int, count: Int)] = [
            (0, 0), (0, 1), (0, 70_000), (1, 65_536), (69_999, 1), (4_096, 8_192), (65_000, 10_000),
            (69_990, 64), (70_000, 16), (80_000, 16),
        ]
        for (offset, count) in cases {
            let bytes = try descriptor.read(count: count, fromAbsoluteOffset: Int64(offset))
            let expected = Array(content[min(offset, content.count)..<min(offset + count, content.count)])
            #expect(bytes == expected, "offset \(offset) count \(count)")
            #expect(bytes.capacity < expected.count + 64, "a short read keeps no spare capacity")
        }
    }
}
