/// MQTT 5 property identifiers (§2.2.2.2) and their wire types.
enum PropertyID: UInt8, CaseIterable {
    case payloadFormatIndicator = 0x01
    case messageExpiryInterval = 0x02
    case contentType = 0x03
    case responseTopic = 0x08
    case correlationData = 0x09
    case subscriptionIdentifier = 0x0B
    case sessionExpiryInterval = 0x11
    case assignedClientIdentifier = 0x12
    case serverKeepAlive = 0x13
    case authenticationMethod = 0x15
    case authenticationData = 0x16
    case requestProblemInformation = 0x17
    case willDelayInterval = 0x18
    case requestResponseInformation = 0x19
    case responseInformation = 0x1A
    case serverReference = 0x1C
    case reasonString = 0x1F
    case receiveMaximum = 0x21
    case topicAliasMaximum = 0x22
    case topicAlias = 0x23
    case maximumQoS = 0x24
    case retainAvailable = 0x25
    case userProperty = 0x26
    case maximumPacketSize = 0x27
    case wildcardSubscriptionAvailable = 0x28
    case subscriptionIdentifierAvailable = 0x29
    case sharedSubscriptionAvailable = 0x2A

    enum WireType { case byte, twoByte, fourByte, variable, string, binary, stringPair }

    var wireType: WireType {
        switch self {
        case .payloadFormatIndicator, .requestProblemInformation, .requestResponseInformation, .maximumQoS,
            .retainAvailable, .wildcardSubscriptionAvailable, .subscriptionIdentifierAvailable,
            .sharedSubscriptionAvailable:
            .byte
        case .serverKeepAlive, .receiveMaximum, .topicAliasMaximum, .topicAlias:
            .twoByte
        case .messageExpiryInterval, .sessionExpiryInterval, .willDelayInterval, .maximumPacketSize:
            .fourByte
        case .subscriptionIdentifier:
            .variable
        case .contentType, .responseTopic, .assignedClientIdentifier, .authenticationMethod,
            .responseInformation, .serverReference, .reasonString:
            .string
        case .correlationData, .authenticationData:
            .binary
        case .userProperty:
            .stringPair
        }
    }

    /// Byte properties whose only legal values are 0 and 1.
    var isBoolean: Bool {
        switch self {
        case .payloadFormatIndicator, .requestProblemInformation, .requestResponseInformation, .maximumQoS,
            .retainAvailable, .wildcardSubscriptionAvailable, .subscriptionIdentifierAvailable,
            .sharedSubscriptionAvailable:
            true
        default:
            false
        }
    }

    /// Properties for which a value of 0 is a Protocol Error.
    var zeroIsInvalid: Bool {
        switch self {
        case .receiveMaximum, .maximumPacketSize, .topicAlias, .subscriptionIdentifier: true
        default: false
        }
    }
}

enum PropertyValue: Equatable {
    case integer(UInt32)
    case string(String)
    case binary([UInt8])
}

/// Decoded property block: single-valued properties by identifier, plus the repeatable ones in order.
struct PropertyBag {
    var values: [PropertyID: PropertyValue] = [:]
    var userProperties: [UserProperty] = []
    var subscriptionIdentifiers: [UInt32] = []

    func integer(_ id: PropertyID) -> UInt32? {
        if case .integer(let value)? = values[id] { return value }
        return nil
    }
    func uint16(_ id: PropertyID) -> UInt16? { integer(id).map { UInt16(truncatingIfNeeded: $0) } }
    func uint8(_ id: PropertyID) -> UInt8? { integer(id).map { UInt8(truncatingIfNeeded: $0) } }
    func bool(_ id: PropertyID) -> Bool? { integer(id).map { $0 != 0 } }
    func string(_ id: PropertyID) -> String? {
        if case .string(let value)? = values[id] { return value }
        return nil
    }
    func binary(_ id: PropertyID) -> [UInt8]? {
        if case .binary(let value)? = values[id] { return value }
        return nil
    }

    /// Reads a Property Length and property block, rejecting identifiers not in `allowed`,
    /// duplicates of single-occurrence properties and out-of-range values (§2.2.2.2).
    static func decode(
        from reader: inout ByteReader,
        allowed: Set<PropertyID>,
        packet: String,
        repeatableSubscriptionIdentifier: Bool = false
    ) throws(MQTTCodecError) -> PropertyBag {
        let length = try reader.readVariableByteInteger("\(packet) property length")
        var block = try reader.subReader(length: length, "\(packet) properties")
        var bag = PropertyBag()
        while !block.isAtEnd {
            let rawID = try block.readVariableByteInteger("\(packet) property identifier")
            guard rawID <= Int(UInt8.max), let id = PropertyID(rawValue: UInt8(rawID)) else {
                throw MQTTCodecError(.invalidProperty, "unknown property identifier \(rawID) in \(packet)")
            }
            guard allowed.contains(id) else {
                throw MQTTCodecError(
                    .invalidProperty,
                    "property \(id) (0x\(String(id.rawValue, radix: 16))) not allowed in \(packet)"
                )
            }
            let value: PropertyValue
            switch id.wireType {
            case .byte: value = .integer(UInt32(try block.readUInt8("\(id)")))
            case .twoByte: value = .integer(UInt32(try block.readUInt16("\(id)")))
            case .fourByte: value = .integer(try block.readUInt32("\(id)"))
            case .variable: value = .integer(UInt32(try block.readVariableByteInteger("\(id)")))
            case .string: value = .string(try block.readString("\(id)"))
            case .binary: value = .binary(try block.readBinary("\(id)"))
            case .stringPair:
                let name = try block.readString("user property name")
                let pairValue = try block.readString("user property value")
                bag.userProperties.append(UserProperty(name, pairValue))
                continue
            }
            if case .integer(let number) = value {
                if id.isBoolean && number > 1 {
                    throw MQTTCodecError(.invalidProperty, "\(id) must be 0 or 1, got \(number)")
                }
                if id.zeroIsInvalid && number == 0 {
                    throw MQTTCodecError(.invalidProperty, "\(id) must not be 0")
                }
            }
            if id == .subscriptionIdentifier && repeatableSubscriptionIdentifier, case .integer(let number) = value {
                // The only single-valued exception: a PUBLISH may carry several Subscription Identifiers.
                bag.subscriptionIdentifiers.append(number)
                continue
            }
            guard bag.values.updateValue(value, forKey: id) == nil else {
                throw MQTTCodecError(.invalidProperty, "property \(id) appears more than once in \(packet)")
            }
            if id == .subscriptionIdentifier, case .integer(let number) = value {
                bag.subscriptionIdentifiers.append(number)
            }
        }
        return bag
    }
}

/// Builds a property block, emitting only properties that are present (absent = default, §2.2.2).
struct PropertyWriter {
    private var writer = ByteWriter()

    mutating func byte(_ id: PropertyID, _ value: UInt8?) {
        guard let value else { return }
        writer.writeUInt8(id.rawValue)
        writer.writeUInt8(value)
    }
    mutating func bool(_ id: PropertyID, _ value: Bool?) { byte(id, value.map { $0 ? 1 : 0 }) }
    mutating func twoByte(_ id: PropertyID, _ value: UInt16?) {
        guard let value else { return }
        writer.writeUInt8(id.rawValue)
        writer.writeUInt16(value)
    }
    mutating func fourByte(_ id: PropertyID, _ value: UInt32?) {
        guard let value else { return }
        writer.writeUInt8(id.rawValue)
        writer.writeUInt32(value)
    }
    mutating func variable(_ id: PropertyID, _ value: UInt32?) throws(MQTTCodecError) {
        guard let value else { return }
        writer.writeUInt8(id.rawValue)
        try writer.writeVariableByteInteger(Int(value))
    }
    mutating func string(_ id: PropertyID, _ value: String?) throws(MQTTCodecError) {
        guard let value else { return }
        writer.writeUInt8(id.rawValue)
        try writer.writeString(value)
    }
    mutating func binary(_ id: PropertyID, _ value: [UInt8]?) throws(MQTTCodecError) {
        guard let value else { return }
        writer.writeUInt8(id.rawValue)
        try writer.writeBinary(value)
    }
    mutating func user(_ properties: [UserProperty]) throws(MQTTCodecError) {
        for property in properties {
            writer.writeUInt8(PropertyID.userProperty.rawValue)
            try writer.writeString(property.name)
            try writer.writeString(property.value)
        }
    }

    /// Writes Property Length followed by the block; an empty block is a single 0 byte [MQTT-2.2.2-1].
    func write(to output: inout ByteWriter) throws(MQTTCodecError) {
        try output.writeVariableByteInteger(writer.bytes.count)
        output.writeBytes(writer.bytes)
    }
}
