import Glibc
import Testing

@testable import SystemExtras

/// The clock gate runs `timedatectl`; that helper must get stdio only. An inherited broker socket would keep the
/// connection open after the agent closed it, and an inherited pipe end would keep another helper's read waiting.
@Suite("Helper processes inherit nothing")
struct SubprocessTests {
    @Test func aHelperSeesNoneOfTheAgentsDescriptors() throws {
        var pair: [Int32] = [-1, -1]
        // Deliberately without close-on-exec, like a descriptor a library opened carelessly.
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        defer { for item in pair { close(item) } }
        let seen = try Subprocess.output(
            of: "/bin/sh",
            ["-c", "for fd in \(pair[0]) \(pair[1]); do readlink /proc/$$/fd/$fd; done; echo done"]
        )
        #expect(seen == "done\n", "the helper inherited the agent's socket pair: \(seen)")
    }

    @Test func outputIsCapturedAndAMissingHelperIsAnError() throws {
        #expect(try Subprocess.output(of: "/bin/echo", ["yes"]) == "yes\n")
        #expect {
            try Subprocess.output(of: "/nonexistent/timedatectl", [])
        } throws: { error in
            (error as? SystemError)?.isNotFound == true
        }
    }

    @Test func outputBeyondTheLimitIsCutAndTheHelperStillEnds() throws {
        let output = try Subprocess.output(of: "/bin/sh", ["-c", "yes | head -c 1000000"], limit: 100)
        #expect(output.count == 100)
    }
}
