import MQTT

/// Decoder target: the input after the selector byte is fed in chunks whose sizes come from the input itself.
/// Invariants: no crash; a decoded packet re-encodes (when the encoder accepts it) to bytes that decode to an
/// equal packet; after an error the decoder is not used again (the session closes the connection).
enum DecoderFuzz {
    static func run(_ input: [UInt8]) {
        let version: MQTTVersion = input[0] & 2 == 0 ? .v3_1_1 : .v5
        let chunk = Int(input[0] >> 2) + 1  // 1...64
        var decoder = PacketDecoder(version: version, maximumPacketSize: 1 << 16)
        var offset = 1
        while offset < input.count {
            let end = min(input.count, offset + chunk)
            decoder.append(input[offset..<end])
            offset = end
            do {
                while let packet = try decoder.next() { checkRoundTrip(packet, version: version) }
            } catch {
                _ = error.description
                return
            }
        }
    }

    static func checkRoundTrip(_ packet: Packet, version: MQTTVersion) {
        guard let bytes = try? PacketEncoder.encode(packet, version: version) else { return }
        var again = PacketDecoder(version: version, maximumPacketSize: 1 << 20)
        again.append(bytes)
        do {
            let decoded = try again.next()
            fuzzCheck(decoded == packet, "round trip changed \(packet) into \(String(describing: decoded))")
            fuzzCheck(again.bufferedByteCount == 0, "re-encoded \(packet) left trailing bytes")
        } catch {
            fuzzCheck(false, "re-encoded \(packet) does not decode: \(error)")
        }
    }
}
