import ReadingProof
import Testing

@Suite("base64url as JOSE writes it")
struct Base64URLTests {
    @Test func roundTripsEveryLengthWithoutPadding() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 250) }
            let text = Base64URL.encode(bytes)
            #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
            #expect(Base64URL.decode(text) == bytes)
        }
    }

    @Test func knownVectorsAndRefusals() {
        // RFC 4648 §10 vectors, without padding.
        #expect(Base64URL.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(Base64URL.encode(Array("fo".utf8)) == "Zm8")
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
        #expect(Base64URL.encodeStandard([0xFB, 0xFF]) == "+/8=")
        #expect(Base64URL.decodeStandard("+/8=") == [0xFB, 0xFF])
        #expect(Base64URL.decode("Zm8=") == nil, "padding is not base64url as JOSE writes it")
        #expect(Base64URL.decode("Z") == nil)
        #expect(Base64URL.decode("Zm9") == nil, "non-zero leftover bits")
        #expect(Base64URL.decode("+/8") == nil)
    }
}
