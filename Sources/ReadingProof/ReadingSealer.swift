public import DurableSpool
internal import Synchronization
public import TLS

/// Signs (and optionally encrypts) each reading as the spool stores it, and keeps the hash chain over them.
///
/// Called from inside `Spool.append` (under the spool's lock, once per seq, in seq order), so the chain follows
/// the seq order exactly and the signature is stored with the reading: durable, made once, and out of the publish
/// path. Every reading gets a link in the chain (its note, kept in the spool record so a restart continues the
/// chain from the newest record); a reading is signed when it is the first of this run, when `signEvery`
/// readings have passed since the last signature, or when `signInterval` has. With `signEvery` = 1 every
/// reading is signed. A reading whose signing fails (a token unplugged) still gets its link and is sent
/// unsigned: the next signature covers it through the chain.
public final class ReadingSealer: Sendable {
    /// How a signed reading travels.
    public enum Envelope: Sendable, Equatable {
        /// MQTT 5: the JSON payload unchanged, the detached JWS (`header..signature`) in user property `sig`.
        case userProperty
        /// MQTT 3.1.1 (no properties): the payload is the compact JWS `header.payload.signature`.
        case payload
    }

    public struct Settings: Sendable, Equatable {
        public var envelope: Envelope
        /// Sign one reading in this many (1: every reading).
        public var signEvery: Int
        /// Sign a reading when at least this long (ms, by the readings' own time) passed since the last signature.
        public var signIntervalMilliseconds: Int64

        public init(envelope: Envelope, signEvery: Int = 1, signIntervalMilliseconds: Int64 = 1000) {
            self.envelope = envelope
            self.signEvery = max(1, signEvery)
            self.signIntervalMilliseconds = signIntervalMilliseconds
        }
    }

    /// The user property that carries a detached signature.
    public static let propertyName = "sig"
    /// Version byte of the note a sealed record carries: `1 ‖ stream (16 ASCII) ‖ link (32)`.
    static let noteVersion: UInt8 = 1

    private struct State {
        let key: DevicePrivateKey
        let recipient: ECPublicKey?
        var previousSeq: UInt64
        var previousLink: [UInt8]
        var sinceSignature = 0
        var lastSignedAt: Int64?
        var failures = 0
        var lastFailure: SignatureFailure?
    }

    private let state: Mutex<State>
    public let settings: Settings
    /// `x5t#S256` of the device certificate.
    public let certificateThumbprint: String
    private let recipientKeyID: String?
    private let stream: String

    /// - Parameters:
    ///   - key: the device key (a PEM key, or a `pkcs11:`/`handle:` key loaded through OpenSSL); EC P-256.
    ///   - certificate: the device certificate, named in every signature.
    ///   - encryptTo: the operator's P-256 public key; readings are then sealed in a JWE to it.
    ///   - stream: the spool's stream id; a chain never spans two streams.
    ///   - resumingAfter: the newest record of the spool, whose note holds the link to continue from.
    public init(
        key: sending DevicePrivateKey,
        certificate: X509Certificate,
        settings: Settings,
        encryptTo recipient: sending ECPublicKey?,
        stream: String,
        resumingAfter newest: SpoolRecord?
    ) throws(SignatureFailure) {
        guard key.isP256 else {
            throw SignatureFailure(code: .keyNotP256, detail: "signed readings use ES256, which needs an EC P-256 key")
        }
        var keyID: String?
        if let recipient {
            guard let thumbprint = JWE.thumbprint(of: recipient) else {
                throw SignatureFailure(code: .keyNotP256, detail: "the operator key must be an EC P-256 public key")
            }
            keyID = thumbprint
        }
        self.settings = settings
        self.stream = stream
        self.recipientKeyID = keyID
        self.certificateThumbprint = Base64URL.encode(SHA256Digest.bytes(certificate.der))
        var previousSeq: UInt64 = 0
        var previousLink = ReadingChain.start
        if let newest, let link = Self.link(fromNote: newest.note, stream: stream) {
            previousSeq = newest.seq
            previousLink = link
        }
        state = Mutex(State(key: key, recipient: recipient, previousSeq: previousSeq, previousLink: previousLink))
    }

    /// Where the chain goes on from: the seq and link of the last reading sealed (0 and zeros: a new chain).
    public var head: (seq: UInt64, link: [UInt8]) {
        state.withLock { ($0.previousSeq, $0.previousLink) }
    }

    /// Signing or encryption failures so far, and the last one (the readings went out unsigned or unencrypted).
    public var failures: (count: Int, last: SignatureFailure?) {
        state.withLock { ($0.failures, $0.lastFailure) }
    }

    /// The record content for the reading `payload` (its JSON) on `topic` with `seq`.
    public func seal(topic: String, payload: [UInt8], seq: UInt64, takenAtMilliseconds: Int64) -> SpoolContent {
        state.withLock { state in
            let link = ReadingChain.link(previous: state.previousLink, topic: topic, payload: payload)
            var note: [UInt8] = [Self.noteVersion]
            note.reserveCapacity(49)
            note.append(contentsOf: stream.utf8)
            note.append(contentsOf: link)
            let due =
                state.lastSignedAt == nil || state.sinceSignature + 1 >= settings.signEvery
                || takenAtMilliseconds - (state.lastSignedAt ?? 0) >= settings.signIntervalMilliseconds
            var content = SpoolContent(payload: payload, note: note)
            if due {
                let header = ProofHeader(
                    certificateThumbprint: certificateThumbprint,
                    topic: topic,
                    previousSeq: state.previousSeq,
                    previousLink: state.previousLink
                )
                do throws(SignatureFailure) {
                    content = try signed(
                        payload,
                        header: header,
                        key: state.key,
                        recipient: state.recipient,
                        note: note
                    )
                    state.sinceSignature = 0
                    state.lastSignedAt = takenAtMilliseconds
                } catch {
                    state.failures += 1
                    state.lastFailure = error
                    state.sinceSignature += 1
                    content = (try? linked(payload, recipient: state.recipient, note: note)) ?? content
                }
            } else {
                state.sinceSignature += 1
                if state.recipient != nil {
                    do throws(SignatureFailure) {
                        content = try linked(payload, recipient: state.recipient, note: note)
                    } catch {
                        state.failures += 1
                        state.lastFailure = error
                    }
                }
            }
            state.previousSeq = seq
            state.previousLink = link
            return content
        }
    }

    private func signed(
        _ payload: [UInt8],
        header: ProofHeader,
        key: DevicePrivateKey,
        recipient: ECPublicKey?,
        note: [UInt8]
    ) throws(SignatureFailure) -> SpoolContent {
        var input: [UInt8] = []
        input.reserveCapacity(payload.count * 4 / 3 + 300)
        Base64URL.append(header.encoded(), to: &input)
        let headerLength = input.count
        input.append(UInt8(ascii: "."))
        Base64URL.append(payload, to: &input)
        let signature = try key.signES256(input)
        if let recipient, let recipientKeyID {
            var jws = input
            jws.append(UInt8(ascii: "."))
            Base64URL.append(signature, to: &jws)
            let sealed = try JWE.seal(jws, contentType: "JOSE", to: recipient, keyID: recipientKeyID)
            return SpoolContent(payload: sealed, note: note)
        }
        switch settings.envelope {
        case .userProperty:
            var detached = Array(input[0..<headerLength])
            detached.append(contentsOf: "..".utf8)
            Base64URL.append(signature, to: &detached)
            let attribute = SpoolAttribute(name: Self.propertyName, value: String(decoding: detached, as: UTF8.self))
            return SpoolContent(payload: payload, attributes: [attribute], note: note)
        case .payload:
            input.append(UInt8(ascii: "."))
            Base64URL.append(signature, to: &input)
            return SpoolContent(payload: input, note: note)
        }
    }

    /// A reading between signatures: its JSON as is (encrypted when there is a recipient); the chain covers it.
    private func linked(
        _ payload: [UInt8],
        recipient: ECPublicKey?,
        note: [UInt8]
    ) throws(SignatureFailure)
        -> SpoolContent
    {
        guard let recipient, let recipientKeyID else { return SpoolContent(payload: payload, note: note) }
        return SpoolContent(
            payload: try JWE.seal(payload, contentType: nil, to: recipient, keyID: recipientKeyID),
            note: note
        )
    }

    /// The link a sealed record's note holds, when it belongs to `stream`.
    static func link(fromNote note: [UInt8], stream: String) -> [UInt8]? {
        guard note.count == 49, note[0] == noteVersion, note[1..<17].elementsEqual(stream.utf8) else { return nil }
        return Array(note[17...])
    }
}
