internal import FoundationEssentials
public import TLS

/// The device's certificate chain as a retained message on `devices/<id>/certificate`:
/// `{"x5c":["<base64 DER of the device certificate>","<base64 DER of an intermediate>",…]}` (standard base64,
/// as JWS `x5c`), so a verifier finds the key of every signed reading in the same subscription and checks it
/// against the factory CA. One line, so `mosquitto_sub -v` prints it as one.
public enum CertificateAnnouncement {
    public static func payload(chain: [X509Certificate]) -> [UInt8] {
        var json: [UInt8] = Array(#"{"x5c":["#.utf8)
        for (index, certificate) in chain.enumerated() {
            if index > 0 { json.append(UInt8(ascii: ",")) }
            JSONText.appendString(Base64URL.encodeStandard(certificate.der), to: &json)
        }
        json.append(contentsOf: "]}".utf8)
        return json
    }

    private struct Fields: Decodable {
        var x5c: [String]
    }

    /// The chain, leaf first; nil when the payload is not such a message.
    public static func chain(from payload: [UInt8]) -> [X509Certificate]? {
        guard let fields = try? JSONDecoder().decode(Fields.self, from: Data(payload)), !fields.x5c.isEmpty else {
            return nil
        }
        var chain: [X509Certificate] = []
        for text in fields.x5c {
            guard let der = Base64URL.decodeStandard(text), let certificate = X509Certificate.certificate(der: der)
            else { return nil }
            chain.append(certificate)
        }
        return chain
    }
}
