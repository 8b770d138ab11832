import Testing

@testable import PinpostAgent

#if canImport(Glibc)
import Glibc
@testable import ClockTrust
#endif

/// The clock gate runs `timedatectl`; that helper must get stdio only. An inherited broker socket would keep the
/// connection open after the agent closed it, and an inherited pipe end would keep another helper's read waiting.
@Suite("Helper processes inherit nothing")
struct SubprocessTests {
    @Test func aHelperSeesNoneOfTheAgentsDescriptors() throws {
        var pair: [Int32] = [-1, -1]
        // Deliberately without close-on-exec, like a descriptor a library opened carelessly.
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        defer { for item in pair { close(item) } }
        let seen = Subprocess.output(
            of: "/bin/sh",
            ["-c", "for fd in \(pair[0]) \(pair[1]); do readlink /proc/$$/fd/$fd; done; echo done"]
        )
        #expect(seen == "done\n", "the helper inherited the agent's socket pair: \(seen ?? "nil")")
    }

    @Test func outputIsCapturedAndAMissingHelperGivesNil() throws {
        #expect(Subprocess.output(of: "/bin/echo", ["yes"]) == "yes\n")
        #expect(Subprocess.output(of: "/nonexistent/timedatectl", []) == nil)
    }
}
