import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Tests run in parallel in one process. A child one test starts must not inherit another test's sockets:
/// the restart test's proxy closed the agent's connection, but an ejabberd or agent started meanwhile by a
/// parallel test still held it, so the agent never saw the cut and the test failed about once in four CI runs.
@Suite("Test harness: child processes")
struct ChildProcessTests {
    @Test func aChildDoesNotKeepAParentsConnectionOpen() throws {
        var pair: [Int32] = [-1, -1]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        defer { close(pair[1]) }
        let child = try ChildProcess("/bin/sleep", ["30"], outputPath: nil)
        defer { child.stop(signal: SIGKILL) }
        close(pair[0])
        // Our end is closed: the peer must read end-of-file now, not when the child exits.
        var peer = pollfd(fd: pair[1], events: Int16(POLLIN), revents: 0)
        let ready = poll(&peer, 1, 10_000)
        #expect(ready == 1, "the peer saw nothing: the child holds the closed end")
        if ready == 1 {
            var byte: UInt8 = 0
            #expect(read(pair[1], &byte, 1) == 0)
        }
    }
}
