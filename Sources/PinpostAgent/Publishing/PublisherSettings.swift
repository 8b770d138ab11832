internal import DurableSpool
internal import MQTT
internal import Publisher

/// Maps the agent's configuration onto the publisher state machine's.
enum PublisherSettings {
    static func make(_ configuration: AgentConfiguration) -> PublisherConfiguration {
        let checkpointInterval: Duration =
            switch configuration.spool.fsync {
            // Appends are synced one by one; acknowledgements and the session file once a second.
            case .always: .seconds(1)
            case .interval(let interval): interval
            }
        return PublisherConfiguration(
            clientID: configuration.device.id,
            brokerAddress: "\(configuration.broker.host):\(configuration.broker.port)",
            statusTopic: Topics(deviceID: configuration.device.id).status,
            backoffInitial: configuration.reconnect.initial,
            backoffMaximum: configuration.reconnect.max,
            stableAfter: configuration.reconnect.stableAfter,
            statusInterval: configuration.statusInterval,
            checkpointInterval: checkpointInterval,
            watchdogInterval: SystemdNotifier.processPingInterval(),
            sensors: configuration.sensors.map { .init(name: $0.name, qos: $0.qos) },
            qosAboveMaximum: configuration.broker.qosAboveMaximum == .refuse ? .refuse : .downgrade,
            // Only the device's own namespace: devices/<id>/commands/# (CommandTopics) and, with [renewal], the
            // answers to its own certificate requests (RenewalTopics).
            subscriptions: (configuration.commands.enabled
                ? [CommandTopics(deviceID: configuration.device.id).subscription] : [])
                + (configuration.renewal.map {
                    RenewalTopics(settings: $0, deviceID: configuration.device.id).subscriptions
                } ?? [])
        )
    }
}
