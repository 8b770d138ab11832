/// What an MQTT 5 server may add to a refusing CONNACK or a DISCONNECT, so an operator can read why and where to go.
public struct ServerNotice: Sendable, Equatable {
    /// Reason String (0x1F): human-readable, for diagnostics only.
    public var reasonString: String?
    /// Server Reference (0x1C), with 0x9C Use another server / 0x9D Server moved: where the server says to connect.
    public var serverReference: String?

    public init(reasonString: String? = nil, serverReference: String? = nil) {
        self.reasonString = reasonString
        self.serverReference = serverReference
    }

    public var isEmpty: Bool { reasonString == nil && serverReference == nil }
}

extension ServerNotice: CustomStringConvertible {
    /// `broker says "…"; it points to "host:port"`, or empty: ready to append to a log line.
    public var description: String {
        var parts: [String] = []
        if let reasonString { parts.append("broker says \"\(reasonString)\"") }
        if let serverReference { parts.append("it points to \"\(serverReference)\" (Server Reference)") }
        return parts.joined(separator: "; ")
    }
}
