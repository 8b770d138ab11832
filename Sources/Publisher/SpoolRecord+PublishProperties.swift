public import DurableSpool
public import MQTT

extension SpoolRecord {
    /// What the record asks to be sent beside its payload: its attributes as MQTT 5 user properties, in order
    /// (a reading's detached signature travels so). An MQTT 3.1.1 session has no properties and sends none.
    public var publishProperties: PublishProperties {
        guard !attributes.isEmpty else { return PublishProperties() }
        return PublishProperties(userProperties: attributes.map { UserProperty($0.name, $0.value) })
    }
}
