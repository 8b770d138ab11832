/// What `pinpost verify` found about one reading (or a run of them).
public struct ProofFinding: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        /// The signature does not verify over what arrived, the reading was moved to another topic, an encrypted
        /// reading does not decrypt, or readings between two signatures do not hash to the chain.
        case modified
        /// Signed with a key that is not this device's (another device's, or one whose certificate is unknown or
        /// does not chain to the CA), or an unsigned reading inserted where the device's chain has none.
        case forged
        /// Signed with a certificate the CRL revokes.
        case revoked
        /// A copy of a reading delivered again after the stream moved on beyond the resend window.
        case replayed
        /// Seqs the device produced (its chain says so, or nothing explains the gap) that did not arrive.
        case missing
        /// A reading arrived after one with a higher seq.
        case reordered
        /// Not covered by any signature: unsigned and no later signed reading's chain reaches it (the tail of a
        /// capture in chain-head mode), or encrypted without `--operator-key`.
        case unproven
        /// Not a reading Pinpost makes (payload, envelope or header unreadable).
        case malformed
        /// A copy within the resend window: MQTT QoS 1 may deliver a reading twice; not a failure.
        case duplicate
    }

    public var kind: Kind
    public var device: String
    public var stream: String?
    /// The first seq concerned (a range says so in `detail`).
    public var seq: UInt64?
    public var topic: String
    public var detail: String

    public init(kind: Kind, device: String, stream: String?, seq: UInt64?, topic: String, detail: String) {
        self.kind = kind
        self.device = device
        self.stream = stream
        self.seq = seq
        self.topic = topic
        self.detail = detail
    }

    /// `dev-0001 seq 5 modified: the signature does not match (stream 9f86d081884c7d65, devices/dev-0001/sensors/door)`
    public var description: String {
        var line = device
        if let seq { line += " seq \(seq)" }
        line += " \(kind.rawValue): \(detail)"
        var context: [String] = []
        if let stream { context.append("stream \(stream)") }
        if !topic.isEmpty { context.append(topic) }
        if !context.isEmpty { line += " (" + context.joined(separator: ", ") + ")" }
        return line
    }
}
