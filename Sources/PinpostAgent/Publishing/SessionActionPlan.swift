internal import MQTT

/// The order in which the publisher applies one batch of session actions. Handling an event can feed the session
/// again (the status message after CONNACK, the next readings after a PUBACK), and the packets that produces must
/// not overtake the bytes the session produced before it: a Topic Alias would reach the broker before the PUBLISH
/// that binds it (ejabberd closed such connections: "No mapping found for this Topic Alias"), and new readings
/// would overtake the resends of a resumed session [MQTT-4.6.0-1]. So every `.send` before the first `.close` is
/// written first, then the events and the close are handled in their order.
struct SessionActionPlan {
    /// Bytes to write before anything else, in the session's order.
    let writeFirst: [[UInt8]]
    /// The remaining actions in order: events, the close, and any bytes after the close (none in practice).
    let then: [SessionAction]

    init(_ actions: [SessionAction]) {
        let closeIndex = actions.firstIndex { if case .close = $0 { true } else { false } } ?? actions.endIndex
        var writeFirst: [[UInt8]] = []
        var then: [SessionAction] = []
        for (index, action) in actions.enumerated() {
            if index < closeIndex, case .send(let bytes) = action {
                writeFirst.append(bytes)
            } else {
                then.append(action)
            }
        }
        self.writeFirst = writeFirst
        self.then = then
    }
}
