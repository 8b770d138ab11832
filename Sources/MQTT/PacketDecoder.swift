/// Incremental decoder for a byte stream from one connection. Feed it whatever the transport delivers with
/// `append`, then call `next()` until it returns nil. Input is untrusted: every length is checked against the
/// buffered bytes and `maximumPacketSize` before anything is allocated, and no input can make it trap.
/// After `next()` throws, the stream is unusable and every later call throws the same error.
public struct PacketDecoder: Sendable {
    public let version: MQTTVersion
    /// Largest whole packet (fixed header included) accepted; larger ones fail before being buffered fully.
    public let maximumPacketSize: Int

    private var buffer: [UInt8] = []
    private var readIndex = 0
    private var failure: MQTTCodecError?

    public init(version: MQTTVersion, maximumPacketSize: Int = 1 << 20) {
        self.version = version
        self.maximumPacketSize = max(2, maximumPacketSize)
    }

    /// Bytes received but not yet consumed as packets.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        compactIfWorthwhile()
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: [UInt8]) {
        compactIfWorthwhile()
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: ArraySlice<UInt8>) {
        compactIfWorthwhile()
        buffer.append(contentsOf: bytes)
    }

    /// Drops consumed bytes only when they are at least half the buffer, so the cost is amortised O(1) per byte.
    private mutating func compactIfWorthwhile() {
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        } else if readIndex > 0 && readIndex >= buffer.count / 2 {
            buffer.removeSubrange(0..<readIndex)
            readIndex = 0
        }
    }

    /// Decodes and consumes exactly one packet, or returns nil if more bytes are needed.
    public mutating func next() throws(MQTTCodecError) -> Packet? {
        if let failure { throw failure }
        do {
            return try decodeNext()
        } catch {
            failure = error
            throw error
        }
    }

    private mutating func decodeNext() throws(MQTTCodecError) -> Packet? {
        let available = buffer.count - readIndex
        guard available >= 1 else { return nil }
        let header = buffer[readIndex]
        guard let type = PacketType(rawValue: header >> 4), type != .auth || version == .v5 else {
            throw MQTTCodecError(
                .unknownPacketType,
                "packet type \(header >> 4) is not valid in MQTT \(version == .v5 ? "5" : "3.1.1")"
            )
        }
        let flags = header & 0x0F
        if type != .publish && flags != type.requiredFlags {
            throw MQTTCodecError(
                .reservedFlags,
                "\(type) fixed header flags 0x\(String(flags, radix: 16)) must be 0x\(String(type.requiredFlags, radix: 16)) [MQTT-2.1.3-1]"
            )
        }

        // Remaining Length: at most 4 bytes, minimally encoded [MQTT-1.5.5-1].
        var remainingLength = 0
        var multiplier = 1
        var lengthBytes = 0
        while true {
            guard lengthBytes < 4 else {
                throw MQTTCodecError(.malformedRemainingLength, "remaining length longer than 4 bytes")
            }
            guard available >= 2 + lengthBytes else { return nil }
            let byte = buffer[readIndex + 1 + lengthBytes]
            lengthBytes += 1
            remainingLength += Int(byte & 0x7F) * multiplier
            if byte & 0x80 == 0 {
                if lengthBytes > 1 && byte == 0 {
                    throw MQTTCodecError(.malformedRemainingLength, "remaining length is not minimally encoded")
                }
                break
            }
            multiplier *= 128
        }
        let total = 1 + lengthBytes + remainingLength
        guard total <= maximumPacketSize else {
            throw MQTTCodecError(
                .packetTooLarge,
                "\(type) of \(total) bytes exceeds maximum packet size \(maximumPacketSize)"
            )
        }
        guard available >= total else { return nil }

        let start = readIndex + 1 + lengthBytes
        var reader = ByteReader(buffer, start: start, end: start + remainingLength)
        let packet = try Self.decodeBody(type: type, flags: flags, reader: &reader, version: version)
        guard reader.isAtEnd else {
            throw MQTTCodecError(.malformedPacket, "\(reader.remaining) unexpected trailing bytes in \(type)")
        }
        readIndex += total
        return packet
    }

    // MARK: - Bodies

    static func decodeBody(
        type: PacketType,
        flags: UInt8,
        reader: inout ByteReader,
        version: MQTTVersion
    ) throws(MQTTCodecError) -> Packet {
        switch type {
        case .connect: return .connect(try decodeConnect(&reader, version: version))
        case .connack: return .connack(try decodeConnAck(&reader, version: version))
        case .publish: return .publish(try decodePublish(&reader, flags: flags, version: version))
        case .puback: return .puback(try decodeAck(&reader, version: version, name: "PUBACK"))
        case .pubrec: return .pubrec(try decodeAck(&reader, version: version, name: "PUBREC"))
        case .pubrel: return .pubrel(try decodeAck(&reader, version: version, name: "PUBREL"))
        case .pubcomp: return .pubcomp(try decodeAck(&reader, version: version, name: "PUBCOMP"))
        case .subscribe: return .subscribe(try decodeSubscribe(&reader, version: version))
        case .suback: return .suback(try decodeSubAck(&reader, version: version))
        case .unsubscribe: return .unsubscribe(try decodeUnsubscribe(&reader, version: version))
        case .unsuback: return .unsuback(try decodeUnsubAck(&reader, version: version))
        case .pingreq: return .pingreq
        case .pingresp: return .pingresp
        case .disconnect:
            guard version == .v5, !reader.isAtEnd else { return .disconnect(DisconnectPacket()) }
            let code = ReasonCode(rawValue: try reader.readUInt8("DISCONNECT reason code"))
            guard !reader.isAtEnd else { return .disconnect(DisconnectPacket(reasonCode: code)) }
            let bag = try PropertyBag.decode(from: &reader, allowed: DisconnectProperties.allowed, packet: "DISCONNECT")
            return .disconnect(DisconnectPacket(reasonCode: code, properties: DisconnectProperties(bag)))
        case .auth:
            guard !reader.isAtEnd else { return .auth(AuthPacket()) }
            let code = ReasonCode(rawValue: try reader.readUInt8("AUTH reason code"))
            guard !reader.isAtEnd else { return .auth(AuthPacket(reasonCode: code)) }
            let bag = try PropertyBag.decode(from: &reader, allowed: AuthProperties.allowed, packet: "AUTH")
            return .auth(AuthPacket(reasonCode: code, properties: AuthProperties(bag)))
        }
    }

    private static func decodeQoS(_ value: UInt8, _ what: String) throws(MQTTCodecError) -> QoS {
        guard let qos = QoS(rawValue: value) else {
            throw MQTTCodecError(.invalidQoS, "\(what) QoS 3 is invalid [MQTT-3.3.1-4]")
        }
        return qos
    }

    private static func readPacketID(_ reader: inout ByteReader, _ name: String) throws(MQTTCodecError) -> UInt16 {
        let packetID = try reader.readUInt16("\(name) packet identifier")  // built only on error (autoclosure)
        guard packetID != 0 else {
            throw MQTTCodecError(.invalidPacketIdentifier, "\(name) packet identifier is 0 [MQTT-2.2.1-3]")
        }
        return packetID
    }

    private static func decodeConnect(
        _ reader: inout ByteReader,
        version: MQTTVersion
    ) throws(MQTTCodecError) -> ConnectPacket {
        let name = try reader.readString("protocol name")
        guard name == "MQTT" else {
            throw MQTTCodecError(.protocolViolation, "protocol name '\(name)' is not 'MQTT'")
        }
        let level = try reader.readUInt8("protocol level")
        guard level == version.rawValue else {
            throw MQTTCodecError(
                .unsupportedInVersion,
                "protocol level \(level) does not match decoder version \(version.rawValue)"
            )
        }
        let flags = try reader.readUInt8("connect flags")
        guard flags & 0x01 == 0 else {
            throw MQTTCodecError(.reservedFlags, "CONNECT reserved flag is set [MQTT-3.1.2-3]")
        }
        let hasWill = flags & 0x04 != 0
        let willQoSBits = (flags >> 3) & 0x03
        let willRetain = flags & 0x20 != 0
        if !hasWill && (willQoSBits != 0 || willRetain) {
            throw MQTTCodecError(.protocolViolation, "Will QoS/Retain set without Will flag [MQTT-3.1.2-11]")
        }
        let willQoS = try decodeQoS(willQoSBits, "Will")
        let hasUsername = flags & 0x80 != 0
        let hasPassword = flags & 0x40 != 0
        if version == .v3_1_1 && hasPassword && !hasUsername {
            throw MQTTCodecError(.protocolViolation, "password flag without user name flag [MQTT-3.1.2-22]")
        }
        let keepAlive = try reader.readUInt16("keep alive")
        var properties = ConnectProperties()
        if version == .v5 {
            properties = ConnectProperties(
                try PropertyBag.decode(from: &reader, allowed: ConnectProperties.allowed, packet: "CONNECT")
            )
        }
        let clientID = try reader.readString("client identifier")
        var will: Will?
        if hasWill {
            var willProperties = WillProperties()
            if version == .v5 {
                willProperties = WillProperties(
                    try PropertyBag.decode(from: &reader, allowed: WillProperties.allowed, packet: "Will")
                )
            }
            let topic = try reader.readString("will topic")
            try Topic.validateName(topic)
            let payload = try reader.readBinary("will payload")
            will = Will(topic: topic, payload: payload, qos: willQoS, retain: willRetain, properties: willProperties)
        }
        let username = hasUsername ? try reader.readString("user name") : nil
        let password = hasPassword ? try reader.readBinary("password") : nil
        return ConnectPacket(
            clientID: clientID,
            cleanStart: flags & 0x02 != 0,
            keepAlive: keepAlive,
            will: will,
            username: username,
            password: password,
            properties: properties
        )
    }

    private static func decodeConnAck(
        _ reader: inout ByteReader,
        version: MQTTVersion
    ) throws(MQTTCodecError) -> ConnAckPacket {
        let acknowledgeFlags = try reader.readUInt8("CONNACK flags")
        guard acknowledgeFlags & 0xFE == 0 else {
            throw MQTTCodecError(.reservedFlags, "CONNACK acknowledge flags bits 7-1 must be 0")
        }
        let rawCode = try reader.readUInt8("CONNACK return code")
        switch version {
        case .v3_1_1:
            guard let code = ReasonCode(v3ConnectReturnCode: rawCode) else {
                throw MQTTCodecError(.protocolViolation, "reserved CONNACK return code \(rawCode)")
            }
            return ConnAckPacket(sessionPresent: acknowledgeFlags & 1 != 0, reasonCode: code)
        case .v5:
            let bag = try PropertyBag.decode(from: &reader, allowed: ConnAckProperties.allowed, packet: "CONNACK")
            return ConnAckPacket(
                sessionPresent: acknowledgeFlags & 1 != 0,
                reasonCode: ReasonCode(rawValue: rawCode),
                properties: ConnAckProperties(bag)
            )
        }
    }

    private static func decodePublish(
        _ reader: inout ByteReader,
        flags: UInt8,
        version: MQTTVersion
    ) throws(MQTTCodecError) -> PublishPacket {
        let qos = try decodeQoS((flags >> 1) & 0x03, "PUBLISH")
        let dup = flags & 0x08 != 0
        if qos == .atMostOnce && dup {
            throw MQTTCodecError(.protocolViolation, "DUP set on a QoS 0 PUBLISH [MQTT-3.3.1-2]")
        }
        let topic = try reader.readString("topic name")
        let packetID = qos == .atMostOnce ? nil : try readPacketID(&reader, "PUBLISH")
        var properties = PublishProperties()
        if version == .v5 {
            let bag = try PropertyBag.decode(
                from: &reader,
                allowed: PublishProperties.allowed,
                packet: "PUBLISH",
                repeatableSubscriptionIdentifier: true
            )
            properties = PublishProperties(bag)
        }
        try Topic.validateName(topic, allowEmpty: properties.topicAlias != nil)
        return PublishPacket(
            topic: topic,
            payload: reader.readRest(),
            qos: qos,
            retain: flags & 0x01 != 0,
            dup: dup,
            packetID: packetID,
            properties: properties
        )
    }

    private static func decodeAck(
        _ reader: inout ByteReader,
        version: MQTTVersion,
        name: String
    ) throws(MQTTCodecError) -> AckPacket {
        let packetID = try readPacketID(&reader, name)
        guard version == .v5, !reader.isAtEnd else { return AckPacket(packetID: packetID) }
        let code = ReasonCode(rawValue: try reader.readUInt8("\(name) reason code"))
        guard !reader.isAtEnd else { return AckPacket(packetID: packetID, reasonCode: code) }
        let bag = try PropertyBag.decode(from: &reader, allowed: AckProperties.allowed, packet: name)
        return AckPacket(packetID: packetID, reasonCode: code, properties: AckProperties(bag))
    }

    private static func decodeSubscribe(
        _ reader: inout ByteReader,
        version: MQTTVersion
    ) throws(MQTTCodecError) -> SubscribePacket {
        let packetID = try readPacketID(&reader, "SUBSCRIBE")
        var properties = SubscribeProperties()
        if version == .v5 {
            properties = SubscribeProperties(
                try PropertyBag.decode(from: &reader, allowed: SubscribeProperties.allowed, packet: "SUBSCRIBE")
            )
        }
        var subscriptions: [Subscription] = []
        while !reader.isAtEnd {
            let filter = try reader.readString("topic filter")
            try Topic.validateFilter(filter)
            let options = try reader.readUInt8("subscription options")
            let reservedMask: UInt8 = version == .v5 ? 0xC0 : 0xFC
            guard options & reservedMask == 0 else {
                throw MQTTCodecError(.reservedFlags, "reserved subscription option bits set [MQTT-3.8.3-5]")
            }
            let qos = try decodeQoS(options & 0x03, "subscription")
            guard let retainHandling = RetainHandling(rawValue: (options >> 4) & 0x03) else {
                throw MQTTCodecError(.protocolViolation, "Retain Handling 3 is invalid")
            }
            subscriptions.append(
                Subscription(
                    topicFilter: filter,
                    qos: qos,
                    noLocal: options & 0x04 != 0,
                    retainAsPublished: options & 0x08 != 0,
                    retainHandling: retainHandling
                )
            )
        }
        guard !subscriptions.isEmpty else {
            throw MQTTCodecError(.protocolViolation, "SUBSCRIBE without topic filters [MQTT-3.8.3-3]")
        }
        return SubscribePacket(packetID: packetID, subscriptions: subscriptions, properties: properties)
    }

    private static func decodeSubAck(
        _ reader: inout ByteReader,
        version: MQTTVersion
    ) throws(MQTTCodecError) -> SubAckPacket {
        let packetID = try readPacketID(&reader, "SUBACK")
        var properties = AckProperties()
        if version == .v5 {
            properties = AckProperties(
                try PropertyBag.decode(from: &reader, allowed: AckProperties.allowed, packet: "SUBACK")
            )
        }
        let codes = reader.readRest().map(ReasonCode.init(rawValue:))
        if version == .v3_1_1, let bad = codes.first(where: { !($0.rawValue <= 2 || $0.rawValue == 0x80) }) {
            throw MQTTCodecError(.protocolViolation, "invalid SUBACK return code \(bad.rawValue)")
        }
        return SubAckPacket(packetID: packetID, reasonCodes: codes, properties: properties)
    }

    private static func decodeUnsubscribe(
        _ reader: inout ByteReader,
        version: MQTTVersion
    ) throws(MQTTCodecError) -> UnsubscribePacket {
        let packetID = try readPacketID(&reader, "UNSUBSCRIBE")
        var properties = UnsubscribeProperties()
        if version == .v5 {
            properties = UnsubscribeProperties(
                try PropertyBag.decode(from: &reader, allowed: UnsubscribeProperties.allowed, packet: "UNSUBSCRIBE")
            )
        }
        var filters: [String] = []
        while !reader.isAtEnd {
            let filter = try reader.readString("topic filter")
            try Topic.validateFilter(filter)
            filters.append(filter)
        }
        guard !filters.isEmpty else {
            throw MQTTCodecError(.protocolViolation, "UNSUBSCRIBE without topic filters [MQTT-3.10.3-2]")
        }
        return UnsubscribePacket(packetID: packetID, topicFilters: filters, properties: properties)
    }

    private static func decodeUnsubAck(
        _ reader: inout ByteReader,
        version: MQTTVersion
    ) throws(MQTTCodecError) -> UnsubAckPacket {
        let packetID = try readPacketID(&reader, "UNSUBACK")
        guard version == .v5 else { return UnsubAckPacket(packetID: packetID) }
        let properties = AckProperties(
            try PropertyBag.decode(from: &reader, allowed: AckProperties.allowed, packet: "UNSUBACK")
        )
        let codes = reader.readRest().map(ReasonCode.init(rawValue:))
        return UnsubAckPacket(packetID: packetID, reasonCodes: codes, properties: properties)
    }
}
