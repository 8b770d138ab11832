/// Hands out non-zero packet identifiers that are not currently in use [MQTT-2.2.1-3], [MQTT-2.3.1-2],
/// cycling through the space so a just-freed identifier is not immediately reused.
struct PacketIDAllocator: Sendable, Equatable {
    private(set) var inUse: Set<UInt16> = []
    private(set) var next: UInt16 = 1

    init(next: UInt16 = 1) { self.next = next == 0 ? 1 : next }

    mutating func allocate() -> UInt16? {
        guard inUse.count < Int(UInt16.max) else { return nil }
        while true {
            let candidate = next
            next = next == UInt16.max ? 1 : next + 1
            if inUse.insert(candidate).inserted { return candidate }
        }
    }

    /// Marks an identifier restored from a snapshot as taken.
    mutating func reserve(_ id: UInt16) { inUse.insert(id) }

    mutating func release(_ id: UInt16) { inUse.remove(id) }

    mutating func releaseAll() { inUse.removeAll() }
}
