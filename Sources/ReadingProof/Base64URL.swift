/// Base64 without padding in the URL alphabet (RFC 4648 §5), as every JOSE field is written, and the standard
/// alphabet with padding, as a JWS `x5c` certificate is.
public enum Base64URL {
    private static let urlAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let standardAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// base64url without `=` padding.
    public static func encode(_ bytes: [UInt8]) -> String {
        String(decoding: encodedBytes(bytes, alphabet: urlAlphabet, pad: false), as: UTF8.self)
    }

    /// Appends the base64url text of `bytes` to `output` (no padding), without an intermediate String.
    public static func append(_ bytes: [UInt8], to output: inout [UInt8]) {
        output.append(contentsOf: encodedBytes(bytes, alphabet: urlAlphabet, pad: false))
    }

    /// Standard base64 with padding (JWS `x5c`, RFC 7515 §4.1.6).
    public static func encodeStandard(_ bytes: [UInt8]) -> String {
        String(decoding: encodedBytes(bytes, alphabet: standardAlphabet, pad: true), as: UTF8.self)
    }

    /// base64url text without padding; nil for any other character, padding or an impossible length.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        decode(Array(text.utf8), standard: false)
    }

    /// base64url bytes without padding.
    public static func decode(bytes text: ArraySlice<UInt8>) -> [UInt8]? {
        decode(Array(text), standard: false)
    }

    /// Standard base64, padding optional.
    public static func decodeStandard(_ text: some StringProtocol) -> [UInt8]? {
        var bytes = Array(text.utf8)
        while bytes.last == UInt8(ascii: "=") { bytes.removeLast() }
        return decode(bytes, standard: true)
    }

    private static func encodedBytes(_ bytes: [UInt8], alphabet: [UInt8], pad: Bool) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= bytes.count {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            output.append(alphabet[Int(value >> 18 & 63)])
            output.append(alphabet[Int(value >> 12 & 63)])
            output.append(alphabet[Int(value >> 6 & 63)])
            output.append(alphabet[Int(value & 63)])
            index += 3
        }
        let rest = bytes.count - index
        if rest == 1 {
            let value = UInt32(bytes[index]) << 16
            output.append(alphabet[Int(value >> 18 & 63)])
            output.append(alphabet[Int(value >> 12 & 63)])
            if pad { output.append(contentsOf: "==".utf8) }
        } else if rest == 2 {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            output.append(alphabet[Int(value >> 18 & 63)])
            output.append(alphabet[Int(value >> 12 & 63)])
            output.append(alphabet[Int(value >> 6 & 63)])
            if pad { output.append(UInt8(ascii: "=")) }
        }
        return output
    }

    private static func sextet(_ character: UInt8, standard: Bool) -> UInt32? {
        switch character {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): UInt32(character - UInt8(ascii: "A"))
        case UInt8(ascii: "a")...UInt8(ascii: "z"): UInt32(character - UInt8(ascii: "a") + 26)
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(character - UInt8(ascii: "0") + 52)
        case UInt8(ascii: "-") where !standard, UInt8(ascii: "+") where standard: 62
        case UInt8(ascii: "_") where !standard, UInt8(ascii: "/") where standard: 63
        default: nil
        }
    }

    private static func decode(_ text: [UInt8], standard: Bool) -> [UInt8]? {
        guard text.count % 4 != 1 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(text.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for character in text {
            guard let value = sextet(character, standard: standard) else { return nil }
            accumulator = (accumulator << 6 | value) & 0xFFFF
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        // Leftover bits must be zero (a canonical encoding): anything else is not what an encoder writes.
        guard accumulator & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return output
    }
}
