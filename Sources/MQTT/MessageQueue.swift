/// FIFO of messages waiting for a connection or for room in the in-flight window.
/// Pops advance a head index; storage is compacted only when the dead prefix dominates (amortised O(1)).
struct MessageQueue: Sendable {
    private var storage: [SessionSnapshot.Message] = []
    private var head = 0
    /// Room kept when the queue drains: enough for steady bursts without reallocating, while the storage a
    /// backlog grew (a stalled broker, a reconnect) goes back to the allocator instead of staying for good
    /// (the hour-long soak's memory rose with every backlog).
    static let keptCapacity = 256

    init(_ messages: [SessionSnapshot.Message] = []) { storage = messages }

    var count: Int { storage.count - head }
    var isEmpty: Bool { head == storage.count }
    var first: SessionSnapshot.Message? { isEmpty ? nil : storage[head] }
    var elements: ArraySlice<SessionSnapshot.Message> { storage[head...] }
    /// Messages the storage has room for (what the queue holds on to).
    var capacity: Int { storage.capacity }

    mutating func append(_ message: SessionSnapshot.Message) { storage.append(message) }

    mutating func popFirst() -> SessionSnapshot.Message? {
        guard !isEmpty else { return nil }
        let message = storage[head]
        head += 1
        if head == storage.count {
            storage.removeAll(keepingCapacity: storage.capacity <= Self.keptCapacity)
            head = 0
        } else if head >= 64 && head * 2 >= storage.count {
            storage.removeSubrange(0..<head)
            head = 0
        }
        return message
    }

    /// Puts messages back at the front, keeping their order (used when a session is lost and in-flight
    /// messages become new messages again).
    mutating func prepend(_ messages: [SessionSnapshot.Message]) {
        storage = messages + storage[head...]
        head = 0
    }

    /// Removes and returns the messages matching `predicate`, keeping the others in order.
    mutating func removeAll(where predicate: (SessionSnapshot.Message) -> Bool) -> [SessionSnapshot.Message] {
        let live = storage[head...]
        let removed = live.filter(predicate)
        guard !removed.isEmpty else { return [] }
        storage = live.filter { !predicate($0) }
        head = 0
        return removed
    }
}
