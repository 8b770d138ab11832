import SystemPackage
import Testing

@testable import SystemExtras

@Suite("Unix sockets: datagrams and streams")
struct UnixSocketTests {
    @Test func aDatagramReachesAPathSocket() throws {
        let folder = try TemporaryFolder()
        let address = UnixSocketAddress.path(folder.file("notify"))
        let receiver = try UnixSocket.bound(to: address, kind: .datagram)
        try UnixSocket.unbound(kind: .datagram).send(Array("READY=1\nSTATUS=up".utf8), to: address)
        let message = try #require(try receiver.receive(timeout: .seconds(5)))
        #expect(String(decoding: message, as: UTF8.self) == "READY=1\nSTATUS=up")
    }

    @Test func aDatagramReachesAnAbstractSocket() throws {
        let name = "pinpost-test-\(CurrentProcess.id)-\(UInt32.random(in: 0...UInt32.max))"
        let address = UnixSocketAddress.abstract(name)
        let receiver = try UnixSocket.bound(to: address, kind: .datagram)
        try UnixSocket.unbound(kind: .datagram).send(Array("WATCHDOG=1".utf8), to: address)
        #expect(try receiver.receive(timeout: .seconds(5)) == Array("WATCHDOG=1".utf8))
        #expect(try receiver.receive(timeout: .milliseconds(1)) == nil)
    }

    @Test func aNameTooLongForSunPathIsRefusedWithItsCode() throws {
        let address = UnixSocketAddress.path("/" + String(repeating: "x", count: 200))
        #expect(!address.fits)
        #expect {
            try UnixSocket.unbound(kind: .datagram).send([1], to: address)
        } throws: { error in
            (error as? SystemError)?.code == .fileNameTooLong
        }
    }

    @Test func aMissingSocketIsAnErrorNamingIt() throws {
        #expect {
            _ = try UnixSocket.connected(to: .path("/nonexistent/sim.sock"), kind: .stream)
        } throws: { error in
            guard let failure = error as? SystemError else { return false }
            return failure.isNotFound && failure.path == "/nonexistent/sim.sock"
        }
    }

    @Test func aStreamCarriesARequestAndItsAnswer() throws {
        let folder = try TemporaryFolder()
        let address = UnixSocketAddress.path(folder.file("sim.sock"))
        let listener = try UnixSocket.bound(to: address, kind: .stream)
        let server = try SystemThread {
            guard let connection = try? listener.accept(),
                let request = try? connection.receive(timeout: .seconds(5))
            else { return }
            try? connection.writeAll(Array("ok ".utf8) + request)
        }
        let client = try UnixSocket.connected(to: address, kind: .stream)
        try client.writeAll(Array("set door 1\n".utf8))
        var answer: [UInt8] = []
        while let chunk = try client.receive(timeout: .seconds(5)), !chunk.isEmpty {
            answer += chunk
        }
        server.join()
        #expect(String(decoding: answer, as: UTF8.self) == "ok set door 1\n")
    }
}
