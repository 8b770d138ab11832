internal import MQTT

/// The command side of the topic layout, all inside the device's own namespace `devices/<id>/`: the one filter
/// the agent subscribes to, where commands and replies go, and what an incoming topic means.
struct CommandTopics: Sendable, Equatable {
    let deviceID: String

    /// `devices/<id>/commands`: JSON commands.
    var commands: String { "devices/\(deviceID)/commands" }
    /// The agent's only subscription: its own commands, at QoS 1, never the retained copies (MQTT 5).
    var subscription: Subscription {
        Subscription(topicFilter: commands + "/#", qos: .atLeastOnce, retainHandling: .doNotSend)
    }
    /// `devices/<id>/replies`: replies without a Response Topic (MQTT 3.1.1, or a 5.0 request without one).
    var replies: String { "devices/\(deviceID)/replies" }
    /// `devices/<id>/outputs/<name>`: an output's retained state.
    func output(_ name: String) -> String { "devices/\(deviceID)/outputs/\(name)" }
    /// `devices/<id>/commands/outputs/<name>`: plain `on`/`off` at QoS 0 (Home Assistant's switch).
    func outputCommand(_ name: String) -> String { "\(commands)/outputs/\(name)" }

    enum Route: Equatable {
        case json
        case plainOutput(String)
        /// Under `commands/` but not served.
        case unknown
        /// Not under this device's commands at all (a broker would not deliver it; ignored).
        case foreign
    }

    func route(_ topic: String) -> Route {
        if topic == commands { return .json }
        guard topic.hasPrefix(commands + "/") else { return .foreign }
        let rest = topic.dropFirst(commands.count + 1).split(separator: "/", omittingEmptySubsequences: false)
        if rest.count == 2, rest[0] == "outputs", !rest[1].isEmpty { return .plainOutput(String(rest[1])) }
        return .unknown
    }

    /// A Response Topic the device may publish to and operators may read: `devices/<id>/replies` or below it.
    func acceptsResponseTopic(_ topic: String) -> Bool {
        guard topic == replies || topic.hasPrefix(replies + "/") else { return false }
        return !topic.utf8.contains { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "#") || $0 == 0 }
    }
}
