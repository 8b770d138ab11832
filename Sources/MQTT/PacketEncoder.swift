/// Serialises packets to MQTT wire format. It validates what it writes (topics, packet identifiers, flag
/// combinations, length limits) so the client never emits a packet the server must reject as malformed.
public enum PacketEncoder {
    /// Appends the encoded packet to `buffer`; on error `buffer` is left unchanged.
    ///
    /// The body is written straight into `buffer` after a 5-byte header slot, and the header is then
    /// packed into the slot, so encoding into a buffer with enough capacity allocates nothing.
    public static func encode(_ packet: Packet, version: MQTTVersion, into buffer: inout [UInt8]) throws(MQTTCodecError)
    {
        let start = buffer.count
        for _ in 0..<headerSlot { buffer.append(0) }
        var body = ByteWriter()
        swap(&body.bytes, &buffer)
        let flags: UInt8
        do {
            flags = try encodeBody(packet, version: version, into: &body)
        } catch {
            swap(&body.bytes, &buffer)
            buffer.removeSubrange(start...)
            throw error
        }
        swap(&body.bytes, &buffer)
        let bodyLength = buffer.count - start - headerSlot
        guard bodyLength <= VariableByteInteger.maximum else {
            buffer.removeSubrange(start...)
            throw MQTTCodecError(.packetTooLarge, "remaining length \(bodyLength) exceeds 268435455")
        }
        // Fixed header: type and flags, then the Remaining Length in 1 to 4 bytes, then the body moved up.
        let lengthSize = VariableByteInteger.size(of: bodyLength)
        let gap = headerSlot - 1 - lengthSize
        buffer.withUnsafeMutableBufferPointer { bytes in
            var index = start + gap
            bytes[index] = packet.type.rawValue << 4 | flags
            var remaining = bodyLength
            repeat {
                index += 1
                let digit = UInt8(truncatingIfNeeded: remaining & 0x7F)
                remaining >>= 7
                bytes[index] = remaining > 0 ? digit | 0x80 : digit
            } while remaining > 0
            if gap > 0 {
                // Overlapping move down by `gap` bytes (copyMemory has memmove semantics).
                let base = UnsafeMutableRawPointer(bytes.baseAddress! + start)
                base.copyMemory(from: base + gap, byteCount: headerSlot - gap + bodyLength)
            }
        }
        if gap > 0 { buffer.removeLast(gap) }
    }

    /// Room for the fixed header: one byte of type and flags, up to four of Remaining Length.
    private static let headerSlot = 5

    /// Writes the variable header and payload; returns the fixed header's flags.
    private static func encodeBody(
        _ packet: Packet,
        version: MQTTVersion,
        into body: inout ByteWriter
    ) throws(MQTTCodecError) -> UInt8 {
        var flags: UInt8 = packet.type.requiredFlags
        switch packet {
        case .connect(let connect): try encodeConnect(connect, version: version, into: &body)
        case .connack(let connack): try encodeConnAck(connack, version: version, into: &body)
        case .publish(let publish): flags = try encodePublish(publish, version: version, into: &body)
        case .puback(let ack), .pubrec(let ack), .pubrel(let ack), .pubcomp(let ack):
            try encodeAck(ack, version: version, into: &body)
        case .subscribe(let subscribe): try encodeSubscribe(subscribe, version: version, into: &body)
        case .suback(let suback): try encodeSubAck(suback, version: version, into: &body)
        case .unsubscribe(let unsubscribe): try encodeUnsubscribe(unsubscribe, version: version, into: &body)
        case .unsuback(let unsuback): try encodeUnsubAck(unsuback, version: version, into: &body)
        case .pingreq, .pingresp: break
        case .disconnect(let disconnect):
            if version == .v5 && !(disconnect.reasonCode == .success && disconnect.properties.isEmpty) {
                body.writeUInt8(disconnect.reasonCode.rawValue)
                if !disconnect.properties.isEmpty { try disconnect.properties.write(to: &body) }
            }
        case .auth(let auth):
            guard version == .v5 else {
                throw MQTTCodecError(.unsupportedInVersion, "AUTH does not exist in MQTT 3.1.1")
            }
            if !(auth.reasonCode == .success && auth.properties.isEmpty) {
                body.writeUInt8(auth.reasonCode.rawValue)
                if !auth.properties.isEmpty { try auth.properties.write(to: &body) }
            }
        }
        return flags
    }

    /// Convenience returning a fresh array, sized up front so a PUBLISH costs one allocation.
    public static func encode(_ packet: Packet, version: MQTTVersion) throws(MQTTCodecError) -> [UInt8] {
        var buffer: [UInt8] = []
        if case .publish(let publish) = packet {
            buffer.reserveCapacity(headerSlot + 2 + publish.topic.utf8.count + 2 + 16 + publish.payload.count)
        } else {
            buffer.reserveCapacity(32)
        }
        try encode(packet, version: version, into: &buffer)
        return buffer
    }

    private static func encodeConnect(
        _ connect: ConnectPacket,
        version: MQTTVersion,
        into body: inout ByteWriter
    ) throws(MQTTCodecError) {
        try body.writeString("MQTT")
        body.writeUInt8(version.rawValue)
        var flags: UInt8 = 0
        if connect.username != nil { flags |= 0x80 }
        if connect.password != nil {
            if version == .v3_1_1 && connect.username == nil {
                throw MQTTCodecError(.protocolViolation, "password without user name [MQTT-3.1.2-22]")
            }
            flags |= 0x40
        }
        if let will = connect.will {
            try Topic.validateName(will.topic)
            flags |= 0x04 | will.qos.rawValue << 3 | (will.retain ? 0x20 : 0)
        }
        if connect.cleanStart { flags |= 0x02 }
        body.writeUInt8(flags)
        body.writeUInt16(connect.keepAlive)
        if version == .v5 { try connect.properties.write(to: &body) }
        try body.writeString(connect.clientID)
        if let will = connect.will {
            if version == .v5 { try will.properties.write(to: &body) }
            try body.writeString(will.topic)
            try body.writeBinary(will.payload)
        }
        if let username = connect.username { try body.writeString(username) }
        if let password = connect.password { try body.writeBinary(password) }
    }

    private static func encodeConnAck(
        _ connack: ConnAckPacket,
        version: MQTTVersion,
        into body: inout ByteWriter
    ) throws(MQTTCodecError) {
        body.writeUInt8(connack.sessionPresent ? 1 : 0)
        switch version {
        case .v3_1_1:
            guard let code = connack.reasonCode.v3ConnectReturnCode else {
                throw MQTTCodecError(.unsupportedInVersion, "\(connack.reasonCode) has no MQTT 3.1.1 return code")
            }
            body.writeUInt8(code)
        case .v5:
            body.writeUInt8(connack.reasonCode.rawValue)
            try connack.properties.write(to: &body)
        }
    }

    /// The size `encode` would produce for this PUBLISH, with the same checks, without copying the payload: the
    /// session sizes every PUBLISH against the server's Maximum Packet Size before it is sent and encoded.
    /// `scratch` holds the variable header meanwhile (reuse it to allocate nothing).
    public static func encodedSize(
        of publish: PublishPacket,
        version: MQTTVersion,
        scratch: inout [UInt8]
    ) throws(MQTTCodecError) -> Int {
        var header = ByteWriter()
        scratch.removeAll(keepingCapacity: true)
        swap(&header.bytes, &scratch)
        defer { swap(&header.bytes, &scratch) }
        _ = try encodePublishHeader(publish, version: version, into: &header)
        let bodyLength = header.bytes.count + publish.payload.count
        guard bodyLength <= VariableByteInteger.maximum else {
            throw MQTTCodecError(.packetTooLarge, "remaining length \(bodyLength) exceeds 268435455")
        }
        return 1 + VariableByteInteger.size(of: bodyLength) + bodyLength
    }

    private static func encodePublish(
        _ publish: PublishPacket,
        version: MQTTVersion,
        into body: inout ByteWriter
    ) throws(MQTTCodecError) -> UInt8 {
        let flags = try encodePublishHeader(publish, version: version, into: &body)
        body.writeBytes(publish.payload)
        return flags
    }

    /// Topic, packet identifier and (5.0) properties; returns the fixed header's flags.
    private static func encodePublishHeader(
        _ publish: PublishPacket,
        version: MQTTVersion,
        into body: inout ByteWriter
    ) throws(MQTTCodecError) -> UInt8 {
        try Topic.validateName(publish.topic, allowEmpty: version == .v5 && publish.properties.topicAlias != nil)
        try body.writeString(publish.topic)
        switch publish.qos {
        case .atMostOnce:
            if publish.packetID != nil {
                throw MQTTCodecError(
                    .invalidPacketIdentifier,
                    "QoS 0 PUBLISH must not have a packet identifier [MQTT-2.2.1-2]"
                )
            }
            if publish.dup {
                throw MQTTCodecError(.protocolViolation, "DUP must be 0 for QoS 0 [MQTT-3.3.1-2]")
            }
        case .atLeastOnce, .exactlyOnce:
            guard let packetID = publish.packetID, packetID != 0 else {
                throw MQTTCodecError(
                    .invalidPacketIdentifier,
                    "QoS \(publish.qos.rawValue) PUBLISH needs a non-zero packet identifier [MQTT-2.2.1-3]"
                )
            }
            body.writeUInt16(packetID)
        }
        if version == .v5 { try publish.properties.write(to: &body) }
        return (publish.dup ? 0x08 : 0) | publish.qos.rawValue << 1 | (publish.retain ? 0x01 : 0)
    }

    private static func encodeAck(
        _ ack: AckPacket,
        version: MQTTVersion,
        into body: inout ByteWriter
    ) throws(MQTTCodecError) {
        try checkPacketID(ack.packetID)
        body.writeUInt16(ack.packetID)
        guard version == .v5, !(ack.reasonCode == .success && ack.properties.isEmpty) else { return }
        body.writeUInt8(ack.reasonCode.rawValue)
        if !ack.properties.isEmpty { try ack.properties.write(to: &body) }
    }

    private static func encodeSubscribe(
        _ subscribe: SubscribePacket,
        version: MQTTVersion,
        into body: inout ByteWriter
    ) throws(MQTTCodecError) {
        try checkPacketID(subscribe.packetID)
        guard !subscribe.subscriptions.isEmpty else {
            throw MQTTCodecError(.protocolViolation, "SUBSCRIBE needs at least one topic filter [MQTT-3.8.3-3]")
        }
        body.writeUInt16(subscribe.packetID)
        if version == .v5 { try subscribe.properties.write(to: &body) }
        for subscription in subscribe.subscriptions {
            try Topic.validateFilter(subscription.topicFilter)
            try body.writeString(subscription.topicFilter)
            var options = subscription.qos.rawValue
            if version == .v5 {
                if subscription.noLocal { options |= 0x04 }
                if subscription.retainAsPublished { options |= 0x08 }
                options |= subscription.retainHandling.rawValue << 4
            }
            body.writeUInt8(options)
        }
    }

    private static func encodeSubAck(
        _ suback: SubAckPacket,
        version: MQTTVersion,
        into body: inout ByteWriter
    ) throws(MQTTCodecError) {
        try checkPacketID(suback.packetID)
        body.writeUInt16(suback.packetID)
        if version == .v5 { try suback.properties.write(to: &body) }
        for code in suback.reasonCodes {
            if version == .v3_1_1 && !(code.rawValue <= 2 || code.rawValue == 0x80) {
                throw MQTTCodecError(.unsupportedInVersion, "SUBACK return code \(code) does not exist in MQTT 3.1.1")
            }
            body.writeUInt8(code.rawValue)
        }
    }

    private static func encodeUnsubscribe(
        _ unsubscribe: UnsubscribePacket,
        version: MQTTVersion,
        into body: inout ByteWriter
    ) throws(MQTTCodecError) {
        try checkPacketID(unsubscribe.packetID)
        guard !unsubscribe.topicFilters.isEmpty else {
            throw MQTTCodecError(.protocolViolation, "UNSUBSCRIBE needs at least one topic filter [MQTT-3.10.3-2]")
        }
        body.writeUInt16(unsubscribe.packetID)
        if version == .v5 { try unsubscribe.properties.write(to: &body) }
        for filter in unsubscribe.topicFilters {
            try Topic.validateFilter(filter)
            try body.writeString(filter)
        }
    }

    private static func encodeUnsubAck(
        _ unsuback: UnsubAckPacket,
        version: MQTTVersion,
        into body: inout ByteWriter
    ) throws(MQTTCodecError) {
        try checkPacketID(unsuback.packetID)
        body.writeUInt16(unsuback.packetID)
        guard version == .v5 else { return }
        try unsuback.properties.write(to: &body)
        for code in unsuback.reasonCodes { body.writeUInt8(code.rawValue) }
    }

    private static func checkPacketID(_ packetID: UInt16) throws(MQTTCodecError) {
        if packetID == 0 {
            throw MQTTCodecError(.invalidPacketIdentifier, "packet identifier must be non-zero [MQTT-2.2.1-3]")
        }
    }
}
