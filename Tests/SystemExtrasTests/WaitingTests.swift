import Testing

@testable import SystemExtras

@Suite("Waiting in the kernel: poll, inotify, clocks")
struct WaitingTests {
    @Test func pollTimesOutWithNothingReady() throws {
        let pipe = try WakeupPipe()
        #expect(try Poll.waitForInput(on: [pipe.readEnd], timeout: .milliseconds(1)) == [false])
        pipe.signal()
        #expect(try Poll.waitForInput(on: [pipe.readEnd], timeout: .milliseconds(1)) == [true])
    }

    @Test func pollTimeoutsRoundUp() {
        #expect(Poll.milliseconds(.zero) == 0)
        #expect(Poll.milliseconds(.microseconds(1)) == 1)
        #expect(Poll.milliseconds(.milliseconds(1500)) == 1500)
        #expect(Poll.milliseconds(.seconds(1) * 100_000_000) == Int32.max)
    }

    @Test func aFileAppearingInAWatchedFolderIsNoticed() throws {
        let folder = try TemporaryFolder()
        let watch = try DirectoryWatch(folder: folder.path)
        #expect(watch.createdNames().isEmpty)
        try FileSystem.writeFileAtomically(folder.file("synchronized"), [])
        #expect(try Poll.waitForInput(on: [watch.descriptor], timeout: .seconds(5)) == [true])
        // The atomic write creates `synchronized.tmp`, then renames it (IN_MOVED_TO).
        #expect(watch.createdNames().contains("synchronized"))
    }

    @Test func watchingAMissingFolderIsAnError() {
        #expect {
            _ = try DirectoryWatch(folder: "/nonexistent/pinpost")
        } throws: { error in
            (error as? SystemError)?.isNotFound == true
        }
    }

    @Test func clocksMoveForward() throws {
        let watch = try ClockStepWatch()
        #expect(!watch.consumeStep())
        let first = SystemClock.monotonic.read()
        let second = SystemClock.monotonic.read()
        #expect(second >= first)
        #expect(SystemClock.boottime.read() >= first)
        #expect(SystemClock.realtime.read() > .seconds(1_700_000_000))
    }

    @Test func processFacts() {
        #expect(CurrentProcess.id > 0)
        #expect(CurrentProcess.environment(["PATH", "PINPOST_SURELY_UNSET"]).keys.sorted() == ["PATH"])
        let usage = ProcessUsage.current()
        #expect(usage.peakResidentKiB > 0)
    }
}
