import Glibc
import SystemPackage
import Testing

@testable import SystemExtras

/// EINTR is retried inside SystemExtras, so no caller writes that loop: checked with injected interrupts (debug
/// builds) on every kind of call, and with real signals against calls blocked in the kernel.
@Suite("Interrupted system calls are retried")
struct InterruptedCallTests {
    // Injected interrupts need a debug build of SystemExtras (ENABLE_MOCKING); real signals work in any build.
    #if ENABLE_MOCKING
    @Test func injectedInterruptsAreRetriedByEveryKindOfCall() throws {
        let folder = try TemporaryFolder()
        let createInterrupts = try InterruptInjection.with(3) {
            try FileSystem.createDirectory(folder.file("a/b"))
        }.delivered
        #expect(createInterrupts == 3)
        #expect(FileSystem.exists(folder.file("a/b")))

        let (names, listInterrupts) = try InterruptInjection.with(2) {
            try FileSystem.contentsOfDirectory(folder.path)
        }
        #expect(listInterrupts == 2)
        #expect(names == ["a"])

        let (output, spawnInterrupts) = try InterruptInjection.with(4) {
            try Subprocess.output(of: "/bin/echo", ["yes"])
        }
        #expect(spawnInterrupts == 4)
        #expect(output == "yes\n")
    }

    @Test func anInterruptedPollWaitsOn() throws {
        let pipe = try WakeupPipe()
        pipe.signal()
        let (ready, delivered) = try InterruptInjection.with(5) {
            try Poll.waitForInput(on: [pipe.readEnd], timeout: .seconds(5))
        }
        #expect(delivered == 5)
        #expect(ready == [true])
    }

    @Test func anInterruptedDatagramExchangeCompletes() throws {
        let name = "pinpost-eintr-\(CurrentProcess.id)-\(UInt32.random(in: 0...UInt32.max))"
        let address = UnixSocketAddress.abstract(name)
        let receiver = try UnixSocket.bound(to: address, kind: .datagram)
        let sender = try UnixSocket.unbound(kind: .datagram)
        let sendInterrupts = try InterruptInjection.with(2) {
            try sender.send(Array("READY=1".utf8), to: address)
        }.delivered
        let (message, receiveInterrupts) = try InterruptInjection.with(2) {
            try receiver.receive(timeout: .seconds(5))
        }
        #expect(sendInterrupts == 2 && receiveInterrupts == 2)
        #expect(message.map { String(decoding: $0, as: UTF8.self) } == "READY=1")
    }
    #endif

    /// A real signal against a thread asleep in poll(2), which the kernel never restarts: without the retry the
    /// wait would end with EINTR before the pipe became readable.
    @Test func aPollInterruptedBySignalsKeepsWaiting() throws {
        SignalSender.installHandler()
        let pipe = try WakeupPipe()
        let waiter = try SignalledThread { () -> Result<[Bool], Errno> in
            Result { () throws(Errno) in try Poll.waitForInput(on: [pipe.readEnd], timeout: nil) }
        }
        let thread = try #require(waiter.id())
        SignalSender.interrupt(thread, times: 5)
        pipe.signal()
        let outcome = try #require(waiter.join())
        #expect(try outcome.get() == [true])
    }

    /// Signals against a writer blocked on a full socket make send(2) return short counts (or EINTR); writeAll
    /// must carry on until every byte arrived, in order.
    @Test func shortWritesAreCompleted() throws {
        SignalSender.installHandler()
        let folder = try TemporaryFolder()
        let address = UnixSocketAddress.path(folder.file("s"))
        let listener = try UnixSocket.bound(to: address, kind: .stream)
        let client = try UnixSocket.connected(to: address, kind: .stream)
        let server = try listener.accept()
        let payload = (0..<(8 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 11) }
        let writer = try SignalledThread { () -> Result<Void, SystemError> in
            Result { () throws(SystemError) in try client.writeAll(payload) }
        }
        let thread = try #require(writer.id())
        // Nobody reads yet: the socket buffer fills and the writer blocks in send(2) while the signals arrive.
        SignalSender.interrupt(thread, times: 10)
        var received: [UInt8] = []
        received.reserveCapacity(payload.count)
        while received.count < payload.count {
            let chunk = try #require(try server.receive(maximumCount: 1 << 20, timeout: .seconds(10)))
            if chunk.isEmpty { break }
            received += chunk
        }
        try #require(writer.join()).get()
        #expect(received.count == payload.count)
        #expect(received == payload)
    }
}
