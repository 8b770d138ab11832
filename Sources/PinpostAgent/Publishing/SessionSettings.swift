internal import MQTT

/// Maps the agent's configuration onto the MQTT session's: persistent session, offline Will.
enum SessionSettings {
    static func make(_ configuration: AgentConfiguration) -> ClientSession.Configuration {
        let topics = Topics(deviceID: configuration.device.id)
        var settings = ClientSession.Configuration(
            clientID: configuration.device.id,
            version: configuration.broker.protocolVersion,
            keepAlive: configuration.broker.keepAlive
        )
        settings.cleanStart = false
        // PINGREQ after keepalive of silence, PINGRESP due within half of it: a dead link is
        // detected within 1.5 x keepalive.
        let keepAlive = configuration.broker.keepAlive
        settings.pingTimeout = keepAlive > .zero ? max(keepAlive / 2, .seconds(1)) : .seconds(10)
        // A broker that accepted TLS gets as long to answer CONNECT as it got to answer TCP and TLS.
        settings.connAckTimeout = configuration.broker.connectTimeout
        settings.sessionExpiry = configuration.broker.protocolVersion == .v5 ? configuration.broker.sessionExpiry : nil
        settings.useTopicAliases = configuration.broker.topicAliases
        settings.maximumInFlight = configuration.broker.maxInflight
        settings.qosAboveMaximum =
            switch configuration.broker.qosAboveMaximum {
            case .downgrade: .downgrade
            case .refuse: .refuse
            }
        // Credentials go only into CONNECT, which is sent only inside a verified TLS session.
        settings.username = configuration.broker.username
        settings.password = configuration.broker.passwordFile.flatMap {
            try? KeyFilePolicy.readSecret($0, field: "broker.password_file")
        }.map { Array($0.utf8) }
        settings.will = Will(
            topic: topics.status,
            payload: Array("{\"state\":\"offline\"}".utf8),
            qos: .atLeastOnce,
            retain: true
        )
        return settings
    }
}
