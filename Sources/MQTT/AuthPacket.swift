/// AUTH (§3.15, MQTT 5 only): a step of enhanced authentication.
public struct AuthPacket: Sendable, Equatable {
    /// 0x00 success, 0x18 continue authentication, 0x19 re-authenticate.
    public var reasonCode: ReasonCode
    public var properties: AuthProperties

    public init(reasonCode: ReasonCode = .success, properties: AuthProperties = AuthProperties()) {
        self.reasonCode = reasonCode
        self.properties = properties
    }
}
