/// The topic layout: everything a device publishes lives under `devices/<id>/`, which is what broker ACLs scope.
public struct Topics: Sendable, Equatable {
    public var deviceID: String

    public init(deviceID: String) {
        self.deviceID = deviceID
    }

    public func sensor(_ name: String) -> String { "devices/\(deviceID)/sensors/\(name)" }

    /// Retained `{"state":"online"}` / `{"state":"offline"}`; the offline one is also the MQTT Will.
    public var status: String { "devices/\(deviceID)/status" }
}
