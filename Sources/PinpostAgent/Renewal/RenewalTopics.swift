public import MQTT

/// The topics of one device's renewal: the request, its two answers, the activation notice, the retained status, and
/// RegisterThing's when an AWS fleet provisioning template is configured.
public struct RenewalTopics: Sendable {
    public let request: String
    public let accepted: String
    public let rejected: String
    public let activated: String?
    public let status: String
    let registerThing: String?

    public init(settings: AgentConfiguration.Renewal, deviceID: String) {
        request = AgentConfiguration.Renewal.resolve(settings.topic, id: deviceID)
        accepted = request + "/accepted"
        rejected = request + "/rejected"
        activated = settings.activatedTopic.map { AgentConfiguration.Renewal.resolve($0, id: deviceID) }
        status = Topics(deviceID: deviceID).identity
        registerThing = settings.awsProvisioningTemplate.map(CertificateAPI.registerThingTopic)
    }

    /// What the device subscribes to: the answers (AWS answers only if the subscription was made before the request).
    public var subscriptions: [Subscription] {
        var filters = [accepted, rejected]
        if let registerThing { filters += [registerThing + "/accepted", registerThing + "/rejected"] }
        return filters.map { Subscription(topicFilter: $0, qos: .atLeastOnce) }
    }

    func isAnswer(_ topic: String) -> Bool {
        topic == accepted || topic == rejected
            || registerThing.map { topic == $0 + "/accepted" || topic == $0 + "/rejected" } ?? false
    }
}

extension Topics {
    /// Retained: how the device's last certificate renewal ended (`{"state":"renewed",...}`).
    public var identity: String { "devices/\(deviceID)/identity" }
}
