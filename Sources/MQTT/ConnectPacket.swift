/// CONNECT (§3.1): the first packet on every connection, opening or resuming a session.
public struct ConnectPacket: Sendable, Equatable {
    public var clientID: String
    /// Clean Session (3.1.1) / Clean Start (5): discard any existing session.
    public var cleanStart: Bool
    /// Keep Alive in seconds; 0 disables it.
    public var keepAlive: UInt16
    public var will: Will?
    public var username: String?
    public var password: [UInt8]?
    /// MQTT 5 only.
    public var properties: ConnectProperties

    public init(
        clientID: String,
        cleanStart: Bool,
        keepAlive: UInt16,
        will: Will? = nil,
        username: String? = nil,
        password: [UInt8]? = nil,
        properties: ConnectProperties = ConnectProperties()
    ) {
        self.clientID = clientID
        self.cleanStart = cleanStart
        self.keepAlive = keepAlive
        self.will = will
        self.username = username
        self.password = password
        self.properties = properties
    }
}
