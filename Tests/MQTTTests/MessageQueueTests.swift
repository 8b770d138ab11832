import Testing

@testable import MQTT

/// The session's FIFO: order through compaction and draining, and no storage kept from a backlog.
@Suite("Message queue")
struct MessageQueueTests {
    static func message(_ tag: UInt64) -> SessionSnapshot.Message {
        SessionSnapshot.Message(
            topic: "t",
            payload: [UInt8(truncatingIfNeeded: tag)],
            qos: .atLeastOnce,
            retain: false,
            tag: tag
        )
    }

    @Test func keepsOrderThroughCompactionAndPrepend() {
        var queue = MessageQueue()
        for tag in UInt64(0)..<300 { queue.append(Self.message(tag)) }
        var popped: [UInt64] = []
        for _ in 0..<200 { popped.append(queue.popFirst()?.tag ?? .max) }
        queue.prepend([Self.message(1000), Self.message(1001)])
        for tag in UInt64(300)..<310 { queue.append(Self.message(tag)) }
        while let message = queue.popFirst() { popped.append(message.tag) }
        #expect(popped == Array(0..<200) + [1000, 1001] + Array(200..<310))
        #expect(queue.isEmpty && queue.count == 0)
    }

    @Test func aDrainedBacklogGivesItsStorageBack() {
        var queue = MessageQueue()
        for tag in UInt64(0)..<5_000 { queue.append(Self.message(tag)) }
        #expect(queue.capacity >= 5_000)
        while queue.popFirst() != nil {}
        #expect(queue.capacity <= MessageQueue.keptCapacity)
        // Steady bursts smaller than the kept room reuse it.
        for round in UInt64(0)..<3 {
            for tag in 0..<UInt64(100) { queue.append(Self.message(round * 100 + tag)) }
            let capacity = queue.capacity
            while queue.popFirst() != nil {}
            #expect(queue.capacity == capacity)
        }
    }
}
