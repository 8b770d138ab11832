internal import FoundationEssentials
public import TLS

/// `pinpost verify`: checks captured readings against the device certificates (announced on
/// `devices/<id>/certificate`, or given) and the factory CA, and names every reading that is not what the
/// device signed: modified, forged, revoked, replayed, missing, reordered or unproven.
///
/// Feed every line with `add`, then `finish`: certificates are collected first, so their order in the capture
/// does not matter; arrival order matters only for reordering and replays.
public final class ReadingVerifier {
    public struct Options {
        /// Trust anchors for device certificates (the factory CA).
        public var anchors: [X509Certificate]
        /// PEM CRLs; a device certificate listed there makes its readings `revoked`.
        public var crlFile: String?
        /// Device certificate chains known out of band (leaf first), besides the announced ones.
        public var certificates: [[X509Certificate]]
        /// The operator's private key, to read encrypted readings.
        public var operatorKey: DevicePrivateKey?
        /// A copy of a reading arriving at most this many seqs behind the newest is a `duplicate` (QoS 1 resend).
        public var resendWindow: UInt64
        /// Unsigned readings after a stream's last signature are not a failure (chain-head mode's open tail).
        public var allowUnprovenTail: Bool

        public init(
            anchors: [X509Certificate],
            crlFile: String? = nil,
            certificates: [[X509Certificate]] = [],
            operatorKey: DevicePrivateKey? = nil,
            resendWindow: UInt64 = 20,
            allowUnprovenTail: Bool = false
        ) {
            self.anchors = anchors
            self.crlFile = crlFile
            self.certificates = certificates
            self.operatorKey = operatorKey
            self.resendWindow = resendWindow
            self.allowUnprovenTail = allowUnprovenTail
        }
    }

    /// Per device: how many readings were verified, and what was found.
    public struct Report {
        public var findings: [ProofFinding]
        /// Device id → readings verified (by their own signature or through the chain).
        public var verified: [String: Int]
        /// Device id → findings per kind.
        public var counts: [String: [ProofFinding.Kind: Int]]

        /// Exit 0 only if this holds: readings arrived, and every one verified (duplicates allowed).
        public var allVerified: Bool {
            !verified.isEmpty && verified.values.reduce(0, +) > 0
                && findings.allSatisfy { $0.kind == .duplicate }
        }

        /// One line per device: `dev-0001: 42 verified, 1 duplicate, 0 modified, …`.
        public var summary: [String] {
            let devices = Set(verified.keys).union(counts.keys).sorted()
            return devices.map { device in
                let kinds = ProofFinding.Kind.allCases.map { "\(counts[device]?[$0] ?? 0) \($0.rawValue)" }
                return "\(device): \(verified[device] ?? 0) verified, " + kinds.joined(separator: ", ")
            }
        }
    }

    private struct Certificate {
        var commonName: String?
        var publicKey: ECPublicKey?
        /// nil: trusted; otherwise why not, and whether that is a revocation.
        var refusal: (reason: String, revoked: Bool)?
    }

    /// One reading as it arrived.
    private struct Arrival {
        var index: Int
        var topic: String
        var device: String
        /// Topic, signature and payload exactly as received: copies compare equal.
        var identity: [UInt8]
        var json: [UInt8]
        var seq: UInt64
        var stream: String
        /// Signed and verified: its header.
        var header: ProofHeader?
        /// Failed on its own (bad signature, wrong key, …): the finding already made.
        var failed: Bool
    }

    private let options: Options
    private var messages: [CapturedMessage] = []

    public init(options: Options) {
        self.options = options
    }

    public func add(line: Substring) {
        if let message = CapturedMessage.parse(line) { messages.append(message) }
    }

    public func add(_ message: CapturedMessage) {
        messages.append(message)
    }

    public func finish() -> Report {
        var certificates: [String: Certificate] = [:]
        for chain in options.certificates { register(chain, in: &certificates) }
        for message in messages where Self.topicParts(message.topic)?.kind == "certificate" {
            if let chain = CertificateAnnouncement.chain(from: message.payload) { register(chain, in: &certificates) }
        }
        var findings: [ProofFinding] = []
        var arrivals: [Arrival] = []
        for (index, message) in messages.enumerated() {
            guard let parts = Self.topicParts(message.topic), parts.kind == "sensors" else { continue }
            if let arrival = examine(
                message,
                index: index,
                device: parts.device,
                certificates: certificates,
                into: &findings
            ) {
                arrivals.append(arrival)
            }
        }
        var verified: [String: Int] = [:]
        var streams: [String: [Arrival]] = [:]
        for arrival in arrivals { streams[arrival.device + " " + arrival.stream, default: []].append(arrival) }
        for key in streams.keys.sorted() {
            let stream = streams[key] ?? []
            let count = analyse(stream, into: &findings)
            verified[stream[0].device, default: 0] += count
        }
        var counts: [String: [ProofFinding.Kind: Int]] = [:]
        for finding in findings { counts[finding.device, default: [:]][finding.kind, default: 0] += 1 }
        for device in verified.keys where counts[device] == nil { counts[device] = [:] }
        return Report(findings: findings, verified: verified, counts: counts)
    }

    // MARK: Certificates

    private func register(_ chain: [X509Certificate], in certificates: inout [String: Certificate]) {
        guard let leaf = chain.first else { return }
        let thumbprint = Base64URL.encode(SHA256Digest.bytes(leaf.der))
        guard certificates[thumbprint] == nil else { return }
        var entry = Certificate(commonName: leaf.summary.commonName, publicKey: leaf.publicKey, refusal: nil)
        switch ClientChainVerification.verify(
            leaf: leaf,
            intermediates: Array(chain.dropFirst()),
            anchors: options.anchors,
            crlFile: options.crlFile
        ) {
        case .success:
            if entry.publicKey == nil { entry.refusal = ("its key is not EC P-256", false) }
        case .failure(let failure):
            // X509_V_ERR_CERT_REVOKED
            entry.refusal = ("\(failure)", failure.code == 23)
        }
        certificates[thumbprint] = entry
    }

    // MARK: One reading

    private func examine(
        _ message: CapturedMessage,
        index: Int,
        device: String,
        certificates: [String: Certificate],
        into findings: inout [ProofFinding]
    ) -> Arrival? {
        func finding(_ kind: ProofFinding.Kind, _ detail: String, seq: UInt64? = nil, stream: String? = nil) {
            findings.append(
                ProofFinding(kind: kind, device: device, stream: stream, seq: seq, topic: message.topic, detail: detail)
            )
        }
        var identity = Array(message.topic.utf8) + [0] + Array((message.signature ?? "").utf8) + [0]
        identity.append(contentsOf: message.payload)

        // The envelope: plain JSON (with a detached signature or none), a compact JWS, or a JWE around either.
        var payload = message.payload
        var detachedSignature = message.signature
        if payload.first != UInt8(ascii: "{"),
            payload.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).count == 5
        {
            guard let key = options.operatorKey else {
                finding(.unproven, "encrypted; pass --operator-key with the operator's private key to verify it")
                return nil
            }
            switch JWE.open(payload, with: key) {
            case .success(let opened):
                payload = opened.plaintext
                detachedSignature = nil
            case .failure(.notDecryptable):
                finding(
                    .modified,
                    "the encrypted reading does not decrypt with the operator key (altered, or not for this key)"
                )
                return nil
            case .failure(.malformed(let reason)):
                finding(.malformed, reason)
                return nil
            }
        }
        var json = payload
        var signingInput: [UInt8]?
        var headerBytes: [UInt8]?
        var signature: [UInt8]?
        if payload.first == UInt8(ascii: "{") {
            if let detachedSignature {
                let parts = detachedSignature.split(separator: ".", omittingEmptySubsequences: false)
                guard parts.count == 3, parts[1].isEmpty, let header = Base64URL.decode(parts[0]),
                    let bytes = Base64URL.decode(parts[2])
                else {
                    finding(.malformed, "the sig property is not a detached JWS (header..signature)")
                    return nil
                }
                var input = Array(parts[0].utf8)
                input.append(UInt8(ascii: "."))
                Base64URL.append(payload, to: &input)
                signingInput = input
                headerBytes = header
                signature = bytes
            }
        } else {
            let parts = payload.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
            guard parts.count == 3, let header = Base64URL.decode(bytes: parts[0]),
                let body = Base64URL.decode(bytes: parts[1]), let bytes = Base64URL.decode(bytes: parts[2])
            else {
                finding(.malformed, "the payload is neither a reading's JSON nor a compact JWS or JWE")
                return nil
            }
            json = body
            signingInput = Array(payload[0..<(parts[0].count + 1 + parts[1].count)])
            headerBytes = header
            signature = bytes
        }
        guard let fields = try? JSONDecoder().decode(ReadingFields.self, from: Data(json)) else {
            finding(.malformed, "not a reading: the JSON lacks seq or stream")
            return nil
        }
        func fail(_ kind: ProofFinding.Kind, _ detail: String) -> Arrival {
            finding(kind, detail, seq: fields.seq, stream: fields.stream)
            return Arrival(
                index: index,
                topic: message.topic,
                device: device,
                identity: identity,
                json: json,
                seq: fields.seq,
                stream: fields.stream,
                header: nil,
                failed: true
            )
        }
        var verifiedHeader: ProofHeader?
        if let headerBytes, let signingInput, let signature {
            guard let header = ProofHeader.decode(headerBytes), header.algorithm == "ES256" else {
                return fail(.malformed, "the JWS header is not an ES256 reading header")
            }
            guard let thumbprint = header.certificateThumbprint, let certificate = certificates[thumbprint] else {
                return fail(
                    .forged,
                    "signed with a key whose certificate is not known (x5t#S256 \(header.certificateThumbprint ?? "none")); the device's retained devices/\(device)/certificate message or --cert must be in the input"
                )
            }
            if let refusal = certificate.refusal {
                return fail(
                    refusal.revoked ? .revoked : .forged,
                    "the signing certificate is refused: \(refusal.reason)"
                )
            }
            guard certificate.commonName == device else {
                return fail(
                    .forged,
                    "signed with the key of \(certificate.commonName ?? "another certificate"), not of \(device)"
                )
            }
            guard header.topic == message.topic else {
                return fail(.modified, "signed for topic \(header.topic ?? "none"), received on \(message.topic)")
            }
            guard let key = certificate.publicKey, key.verifiesES256(signature, over: signingInput) else {
                return fail(.modified, "the signature does not match the reading as received")
            }
            guard header.previousSeq != nil, header.previousLink != nil else {
                return fail(.malformed, "the signed header lacks prev_seq or prev")
            }
            verifiedHeader = header
        }
        return Arrival(
            index: index,
            topic: message.topic,
            device: device,
            identity: identity,
            json: json,
            seq: fields.seq,
            stream: fields.stream,
            header: verifiedHeader,
            failed: false
        )
    }

    private struct ReadingFields: Decodable {
        var seq: UInt64
        var stream: String
    }

    // MARK: One stream

    /// Copies, order, the chain and gaps of one device's stream; returns how many readings verified.
    private func analyse(_ arrivals: [Arrival], into findings: inout [ProofFinding]) -> Int {
        let device = arrivals[0].device
        let stream = arrivals[0].stream
        func finding(_ kind: ProofFinding.Kind, _ seq: UInt64?, _ topic: String, _ detail: String) {
            findings.append(
                ProofFinding(kind: kind, device: device, stream: stream, seq: seq, topic: topic, detail: detail)
            )
        }
        // Copies and order, in arrival order. The chain uses, per seq, the first copy that did not fail on its own.
        var chosen: [UInt64: Arrival] = [:]
        var seen: [UInt64: [[UInt8]]] = [:]
        var claimedByFailures: Set<UInt64> = []
        var newest: UInt64 = 0
        for arrival in arrivals {
            if let earlier = seen[arrival.seq] {
                if earlier.contains(arrival.identity) {
                    if newest > arrival.seq + options.resendWindow {
                        finding(
                            .replayed,
                            arrival.seq,
                            arrival.topic,
                            "a copy arrived after seq \(newest), beyond the resend window (\(options.resendWindow))"
                        )
                    } else {
                        finding(
                            .duplicate,
                            arrival.seq,
                            arrival.topic,
                            "a copy within the resend window (QoS 1 may resend)"
                        )
                    }
                    continue
                }
                seen[arrival.seq, default: []].append(arrival.identity)
                if arrival.failed { continue }
                if let first = chosen[arrival.seq] {
                    if first.header != nil || arrival.header == nil {
                        finding(.forged, arrival.seq, arrival.topic, "a second, different reading with this seq")
                        continue
                    }
                    // A signed copy takes the place of an unsigned one that claimed its seq.
                    finding(.forged, first.seq, first.topic, "an unsigned reading claimed the seq of a signed one")
                }
                chosen[arrival.seq] = arrival
                continue
            }
            seen[arrival.seq] = [arrival.identity]
            // A reading that failed on its own has its finding; its seq is not to be trusted for order.
            if arrival.failed {
                claimedByFailures.insert(arrival.seq)
                continue
            }
            if arrival.seq < newest {
                finding(.reordered, arrival.seq, arrival.topic, "arrived after seq \(newest)")
            }
            newest = max(newest, arrival.seq)
            chosen[arrival.seq] = arrival
        }

        // The chain, in seq order. `links` holds the link of every reading proven so far; `predecessor` the
        // device's previous seq where the chain says what it was.
        let ordered = chosen.values.sorted { $0.seq < $1.seq }
        var links: [UInt64: [UInt8]] = [:]
        var proven = SortedSeqs()
        var predecessor: [UInt64: UInt64] = [:]
        var unsigned: [UInt64: Arrival] = [:]
        var settled: Set<UInt64> = []
        var lastSigned: UInt64?
        for entry in ordered {
            guard let header = entry.header, let previousSeq = header.previousSeq, let previous = header.previousLink
            else {
                unsigned[entry.seq] = entry
                continue
            }
            lastSigned = entry.seq
            if previousSeq > 0 {
                predecessor[entry.seq] = previousSeq
                if let base = proven.last(atOrBelow: previousSeq) {
                    let between = unsigned.values.filter { $0.seq > base && $0.seq <= previousSeq }.sorted {
                        $0.seq < $1.seq
                    }
                    var link = links[base] ?? ReadingChain.start
                    var walked: [(UInt64, [UInt8])] = []
                    for reading in between {
                        link = ReadingChain.link(previous: link, topic: reading.topic, payload: reading.json)
                        walked.append((reading.seq, link))
                    }
                    if link == previous {
                        var before = base
                        for (seq, walkedLink) in walked {
                            links[seq] = walkedLink
                            proven.insert(seq)
                            predecessor[seq] = before
                            unsigned[seq] = nil
                            before = seq
                        }
                    } else if !between.isEmpty, between.last?.seq == previousSeq {
                        let range = "\(between[0].seq)...\(previousSeq)"
                        finding(
                            .modified,
                            between[0].seq,
                            between[0].topic,
                            "the readings seq \(range) do not hash to the chain that seq \(entry.seq) signs (one was altered, inserted or dropped)"
                        )
                        for reading in between {
                            settled.insert(reading.seq)
                            unsigned[reading.seq] = nil
                        }
                    } else if between.isEmpty && base == previousSeq {
                        finding(
                            .modified,
                            base,
                            entry.topic,
                            "seq \(entry.seq) chains to a different reading \(base) than the one received"
                        )
                    }
                    // Otherwise readings are missing; the gap scan names them.
                }
                // Unsigned readings between the device's previous reading and this one are not on its chain.
                for reading in unsigned.values where reading.seq > previousSeq && reading.seq < entry.seq {
                    finding(
                        .forged,
                        reading.seq,
                        reading.topic,
                        "unsigned and not on the device's chain (seq \(entry.seq) follows seq \(previousSeq))"
                    )
                    settled.insert(reading.seq)
                    unsigned[reading.seq] = nil
                }
            } else if previous != ReadingChain.start {
                finding(.malformed, entry.seq, entry.topic, "prev_seq 0 with a prev link that is not the chain start")
            }
            links[entry.seq] = ReadingChain.link(previous: previous, topic: entry.topic, payload: entry.json)
            proven.insert(entry.seq)
        }

        // Gaps between consecutive seqs received: explained when the chain says the device went from one to the
        // other (it skipped seqs after a power cut, or the readings between were lost on the device itself).
        // Seqs whose only copies failed on their own are named by those findings already.
        let seqs = chosen.keys.sorted()
        for (a, b) in zip(seqs, seqs.dropFirst()) where b > a + 1 {
            let last = predecessor[b].map { min($0, b - 1) } ?? (b - 1)
            if last <= a { continue }
            let absent = (a + 1...last).filter { !claimedByFailures.contains($0) }
            guard let first = absent.first, let final = absent.last else { continue }
            let range = first == final ? "seq \(first)" : "seq \(first)...\(final)"
            finding(
                .missing,
                first,
                "",
                "\(range) did not arrive" + (predecessor[b] == last ? " (seq \(b) follows \(last))" : "")
            )
        }
        for reading in unsigned.values.sorted(by: { $0.seq < $1.seq }) where !settled.contains(reading.seq) {
            let tail = lastSigned.map { reading.seq > $0 } ?? true
            if tail && options.allowUnprovenTail && lastSigned != nil { continue }
            finding(
                .unproven,
                reading.seq,
                reading.topic,
                lastSigned == nil || !tail
                    ? "unsigned, and no signed reading's chain covers it"
                    : "unsigned, after the last signed reading (seq \(lastSigned ?? 0)): no signature covers it yet"
            )
        }
        return links.count
    }

    /// `devices/<id>/<kind>/...`: the device id and the kind level (`sensors`, `certificate`, `status`).
    static func topicParts(_ topic: String) -> (device: String, kind: String)? {
        let levels = topic.split(separator: "/", omittingEmptySubsequences: false)
        guard levels.count >= 3, levels[0] == "devices", !levels[1].isEmpty else { return nil }
        return (String(levels[1]), String(levels[2]))
    }
}

/// Seqs in ascending order with binary search: "the newest proven reading at or below this seq" stays
/// O(log n) per signed reading, so a long capture verifies in n log n.
struct SortedSeqs {
    private var seqs: [UInt64] = []

    mutating func insert(_ seq: UInt64) {
        guard let last = seqs.last, seq <= last else {
            seqs.append(seq)
            return
        }
        let index = seq == 0 ? 0 : firstIndex(above: seq - 1)
        if index < seqs.count, seqs[index] == seq { return }
        seqs.insert(seq, at: index)
    }

    func last(atOrBelow seq: UInt64) -> UInt64? {
        let index = firstIndex(above: seq)
        return index > 0 ? seqs[index - 1] : nil
    }

    /// The index of the first element greater than `seq`.
    private func firstIndex(above seq: UInt64) -> Int {
        var low = 0
        var high = seqs.count
        while low < high {
            let middle = (low + high) / 2
            if seqs[middle] <= seq { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
