internal import FoundationEssentials
public import TLS

/// Compact JWE with ECDH-ES key agreement on P-256 and A256GCM content encryption (RFC 7516, RFC 7518 §4.6 and
/// §5.3): `BASE64URL(header) . "" . BASE64URL(iv) . BASE64URL(ciphertext) . BASE64URL(tag)`, the header
/// `{"alg":"ECDH-ES","enc":"A256GCM","kid":"<RFC 7638 thumbprint of the recipient key>","epk":{…}[,"cty":"JOSE"]}`
/// and AAD = the ASCII of the encoded header. A fresh ephemeral key per message: only the holder of the
/// recipient's private key can read it; the broker sees the topic and the size.
public enum JWE {
    /// The RFC 7638 JWK thumbprint of a P-256 public key (SHA-256, base64url): the JWE `kid`.
    public static func thumbprint(of key: ECPublicKey) -> String? {
        guard let (x, y) = key.coordinates else { return nil }
        let jwk = #"{"crv":"P-256","kty":"EC","x":""# + Base64URL.encode(x) + #"","y":""# + Base64URL.encode(y) + #""}"#
        return Base64URL.encode(SHA256Digest.bytes(Array(jwk.utf8)))
    }

    /// Encrypts `plaintext` to `recipient`; `contentType` "JOSE" says the plaintext is itself a compact JWS.
    public static func seal(
        _ plaintext: [UInt8],
        contentType: String?,
        to recipient: ECPublicKey,
        keyID: String
    ) throws(SignatureFailure) -> [UInt8] {
        let ephemeral: DevicePrivateKey
        do {
            ephemeral = try DevicePrivateKey.generateP256()
        } catch {
            throw SignatureFailure(code: .keyAgreement, detail: "\(error)")
        }
        let (x, y) = try ephemeral.publicCoordinates()
        let secret = try ephemeral.sharedSecret(with: recipient)
        var header: [UInt8] = []
        header.reserveCapacity(260)
        header.append(contentsOf: #"{"alg":"ECDH-ES","enc":"A256GCM","kid":"#.utf8)
        JSONText.appendString(keyID, to: &header)
        header.append(contentsOf: #","epk":{"kty":"EC","crv":"P-256","x":""#.utf8)
        Base64URL.append(x, to: &header)
        header.append(contentsOf: #"","y":""#.utf8)
        Base64URL.append(y, to: &header)
        header.append(contentsOf: #""}"#.utf8)
        if let contentType {
            header.append(contentsOf: #","cty":"#.utf8)
            JSONText.appendString(contentType, to: &header)
        }
        header.append(UInt8(ascii: "}"))
        var output: [UInt8] = []
        Base64URL.append(header, to: &output)
        let aad = output
        var iv = [UInt8](repeating: 0, count: 12)
        var random = SystemRandomNumberGenerator()
        for index in iv.indices { iv[index] = UInt8.random(in: .min ... .max, using: &random) }
        let (ciphertext, tag) = try AES256GCM.seal(
            key: contentKey(sharedSecret: secret),
            iv: iv,
            aad: aad,
            plaintext: plaintext
        )
        output.append(contentsOf: "..".utf8)
        Base64URL.append(iv, to: &output)
        output.append(UInt8(ascii: "."))
        Base64URL.append(ciphertext, to: &output)
        output.append(UInt8(ascii: "."))
        Base64URL.append(tag, to: &output)
        return output
    }

    /// What decrypting gave: the plaintext and the header's content type and key id.
    public struct Opened: Sendable, Equatable {
        public var plaintext: [UInt8]
        public var contentType: String?
        public var keyID: String?
    }

    /// Why a JWE could not be read.
    public enum OpenFailure: Error, Sendable, Equatable {
        /// Not five base64url parts, or a header that is not ECDH-ES/A256GCM with a P-256 `epk`.
        case malformed(String)
        /// The tag did not verify: altered in transit, or encrypted to another key.
        case notDecryptable
    }

    private struct Header: Decodable {
        struct Key: Decodable {
            var kty: String
            var crv: String
            var x: String
            var y: String
        }
        var alg: String
        var enc: String
        var kid: String?
        var cty: String?
        var epk: Key
    }

    /// Decrypts compact JWE text with the recipient's private key.
    public static func open(_ compact: [UInt8], with key: DevicePrivateKey) -> Result<Opened, OpenFailure> {
        let parts = compact.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 5, parts[1].isEmpty, let headerBytes = Base64URL.decode(bytes: parts[0]),
            let iv = Base64URL.decode(bytes: parts[2]), let ciphertext = Base64URL.decode(bytes: parts[3]),
            let tag = Base64URL.decode(bytes: parts[4])
        else { return .failure(.malformed("not a compact JWE with direct key agreement")) }
        guard let header = try? JSONDecoder().decode(Header.self, from: Data(headerBytes)) else {
            return .failure(.malformed("the JWE header is not JSON with alg, enc and epk"))
        }
        guard header.alg == "ECDH-ES", header.enc == "A256GCM", header.epk.kty == "EC", header.epk.crv == "P-256",
            let x = Base64URL.decode(header.epk.x), let y = Base64URL.decode(header.epk.y),
            let ephemeral = ECPublicKey(x: x, y: y)
        else { return .failure(.malformed("the JWE is not ECDH-ES + A256GCM on P-256")) }
        guard let secret = try? key.sharedSecret(with: ephemeral),
            let plaintext = AES256GCM.open(
                key: contentKey(sharedSecret: secret),
                iv: iv,
                aad: Array(parts[0]),
                ciphertext: ciphertext,
                tag: tag
            )
        else { return .failure(.notDecryptable) }
        return .success(Opened(plaintext: plaintext, contentType: header.cty, keyID: header.kid))
    }

    /// The Concat KDF of RFC 7518 §4.6.2 for direct key agreement with A256GCM: one SHA-256 round over
    /// `counter 1 ‖ Z ‖ len‖"A256GCM" ‖ len 0 (apu) ‖ len 0 (apv) ‖ 256 (key bits)`, lengths 32-bit big endian.
    static func contentKey(sharedSecret: [UInt8]) -> [UInt8] {
        SHA256Digest.bytes(
            [0, 0, 0, 1],
            sharedSecret,
            [0, 0, 0, 7],
            Array("A256GCM".utf8),
            [0, 0, 0, 0],
            [0, 0, 0, 0],
            [0, 0, 1, 0]
        )
    }
}
