/// An MQTT 5 User Property (0x26): an application-defined name/value pair that may repeat and keeps its order.
public struct UserProperty: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}
