internal import FoundationEssentials

/// The JWS protected header of a signed reading:
/// `{"alg":"ES256","x5t#S256":"…","topic":"devices/dev-0001/sensors/door","prev_seq":41,"prev":"…"}`.
///
/// `x5t#S256` (RFC 7515 §4.1.8) names the device certificate whose key signed; `topic` binds the MQTT topic
/// (and through it the device id), so a reading moved to another topic or device fails; `prev` and `prev_seq`
/// are the previous reading's chain link (`ReadingChain`) and seq (0 and 32 zero bytes: the chain starts here).
public struct ProofHeader: Sendable, Equatable {
    public var algorithm: String
    public var certificateThumbprint: String?
    public var topic: String?
    public var previousSeq: UInt64?
    public var previousLink: [UInt8]?

    public init(
        algorithm: String = "ES256",
        certificateThumbprint: String?,
        topic: String?,
        previousSeq: UInt64?,
        previousLink: [UInt8]?
    ) {
        self.algorithm = algorithm
        self.certificateThumbprint = certificateThumbprint
        self.topic = topic
        self.previousSeq = previousSeq
        self.previousLink = previousLink
    }

    /// The header as the agent writes it (this exact field order; verifiers use the encoded bytes as received).
    public func encoded() -> [UInt8] {
        var json: [UInt8] = []
        json.reserveCapacity(200)
        json.append(contentsOf: #"{"alg":"#.utf8)
        JSONText.appendString(algorithm, to: &json)
        if let certificateThumbprint {
            json.append(contentsOf: #","x5t#S256":"#.utf8)
            JSONText.appendString(certificateThumbprint, to: &json)
        }
        if let topic {
            json.append(contentsOf: #","topic":"#.utf8)
            JSONText.appendString(topic, to: &json)
        }
        if let previousSeq {
            json.append(contentsOf: #","prev_seq":"#.utf8)
            json.append(contentsOf: String(previousSeq).utf8)
        }
        if let previousLink {
            json.append(contentsOf: #","prev":""#.utf8)
            Base64URL.append(previousLink, to: &json)
            json.append(UInt8(ascii: "\""))
        }
        json.append(UInt8(ascii: "}"))
        return json
    }

    private struct Fields: Decodable {
        var alg: String
        var x5t: String?
        var topic: String?
        var prevSeq: UInt64?
        var prev: String?

        enum CodingKeys: String, CodingKey {
            case alg
            case x5t = "x5t#S256"
            case topic
            case prevSeq = "prev_seq"
            case prev
        }
    }

    /// Parses a header's JSON; nil when it is not a JSON object with a string `alg` (the other fields are checked
    /// by the verifier).
    public static func decode(_ json: [UInt8]) -> ProofHeader? {
        guard let fields = try? JSONDecoder().decode(Fields.self, from: Data(json)) else { return nil }
        var previousLink: [UInt8]?
        if let prev = fields.prev {
            guard let bytes = Base64URL.decode(prev), bytes.count == 32 else { return nil }
            previousLink = bytes
        }
        return ProofHeader(
            algorithm: fields.alg,
            certificateThumbprint: fields.x5t,
            topic: fields.topic,
            previousSeq: fields.prevSeq,
            previousLink: previousLink
        )
    }
}
