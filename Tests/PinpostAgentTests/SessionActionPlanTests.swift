import MQTT
import Testing

@testable import PinpostAgent

/// What the session produced must reach the wire before anything an event handler makes it produce next.
@Suite("Session action order")
struct SessionActionPlanTests {
    @Test func bytesBeforeTheCloseGoFirstThenEventsAndCloseInOrder() {
        let actions: [SessionAction] = [
            .event(.connected(sessionPresent: true, ConnAckPacket(sessionPresent: true))),
            .send([1]), .send([2]),
            .event(.delivered(tag: 7)),
            .send([3]),
            .close(.protocolError),
            .send([4]),
        ]
        let plan = SessionActionPlan(actions)
        #expect(plan.writeFirst == [[1], [2], [3]])
        #expect(
            plan.then == [
                .event(.connected(sessionPresent: true, ConnAckPacket(sessionPresent: true))),
                .event(.delivered(tag: 7)), .close(.protocolError), .send([4]),
            ]
        )
    }

    @Test func aDisconnectPacketStillPrecedesItsClose() {
        let plan = SessionActionPlan([.send([0xE0, 0x00]), .close(.clientDisconnect)])
        #expect(plan.writeFirst == [[0xE0, 0x00]])
        #expect(plan.then == [.close(.clientDisconnect)])
    }

    @Test func noActionsNoWork() {
        let plan = SessionActionPlan([])
        #expect(plan.writeFirst.isEmpty && plan.then.isEmpty)
    }
}
