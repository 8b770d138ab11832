internal import TLS

/// The hash chain over a device's readings, in the order the device numbered them:
/// `link(n) = SHA-256(link(n-1) ‖ topic ‖ 0x00 ‖ payload)`, where `payload` is the reading's JSON exactly as
/// published (before any envelope or encryption) and a chain starts from 32 zero bytes. A signed reading names
/// the previous link (`prev`) and its seq (`prev_seq`), so one signature vouches for every reading before it
/// back to the last one verified: a dropped, inserted, reordered or altered reading breaks the chain.
public enum ReadingChain {
    /// The link before the first reading of a chain.
    public static let start = [UInt8](repeating: 0, count: 32)

    public static func link(previous: [UInt8], topic: String, payload: [UInt8]) -> [UInt8] {
        SHA256Digest.bytes(previous, Array(topic.utf8), [0], payload)
    }
}
