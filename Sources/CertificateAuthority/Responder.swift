public import Logging
internal import PinpostAgent
internal import Synchronization
internal import SystemExtras
internal import TLS
internal import Timestamps

/// The CA's decisions for one message: sign a device's renewal or a claim, refuse it with the reason, or act on a
/// device's activation notice by revoking its older certificates. Blocking (it runs `pinpost-pki`): the service
/// calls it off the cooperative pool.
public final class Responder: Sendable {
    public struct Reply: Sendable {
        public var topic: String
        public var payload: [UInt8]
    }

    let configuration: ResponderConfiguration
    let signer: CertificateSigner
    let registry: Registry
    let audit: AuditLog
    let logger: Logger
    /// Request times per device (seconds since the epoch), for the rate limit.
    private let requests = Mutex<[String: [Int64]]>([:])

    public init(configuration: ResponderConfiguration, logger: Logger) {
        self.configuration = configuration
        signer = CertificateSigner(configuration: configuration)
        registry = Registry(path: configuration.registry)
        audit = AuditLog(path: configuration.auditLog)
        self.logger = logger
    }

    /// The topic filters to subscribe to.
    public var filters: [String] {
        [configuration.topic.filter, configuration.claimTopic.filter, configuration.activatedTopic.filter]
    }

    public func handle(topic: String, payload: [UInt8], now: Int64) -> [Reply] {
        if let values = configuration.topic.match(topic), let id = values["id"] {
            return [
                answer(topic: topic, device: id, requester: id, flow: "renewal", now: now) {
                    () throws(ResponderFailure) in
                    try self.renewal(id: id, payload: payload, now: now)
                }
            ]
        }
        if let values = configuration.claimTopic.match(topic), let id = values["id"], let claim = values["claim"] {
            return [
                answer(topic: topic, device: id, requester: claim, flow: "claim:\(claim)", now: now) {
                    () throws(ResponderFailure) in
                    try self.claim(claim, id: id, payload: payload, now: now)
                }
            ]
        }
        if let values = configuration.activatedTopic.match(topic), let id = values["id"] {
            activation(id: id, payload: payload)
        }
        return []
    }

    // MARK: Requests

    private func answer(
        topic: String,
        device: String,
        requester: String,
        flow: String,
        now: Int64,
        _ sign: () throws(ResponderFailure) -> CertificateSigner.Issued
    ) -> Reply {
        do {
            let issued = try sign()
            record(
                .init(
                    event: "signed",
                    device: device,
                    [
                        ("requester", requester), ("flow", flow), ("serial", issued.serial),
                        ("fingerprint", issued.fingerprint), ("not_after", Self.utc(issued.notAfter)),
                    ]
                )
            )
            logger.notice(
                "signed",
                metadata: ["device": "\(device)", "flow": "\(flow)", "serial": "\(issued.serial)"]
            )
            let accepted = CertificateAPI.Accepted(
                certificateID: issued.fingerprint,
                certificatePEM: String(decoding: issued.chainPEM, as: UTF8.self),
                ownershipToken: Self.token()
            )
            return Reply(topic: topic + "/accepted", payload: accepted.payload)
        } catch {
            record(
                .init(
                    event: "refused",
                    device: device,
                    [
                        ("requester", requester), ("flow", flow), ("code", error.code.rawValue),
                        ("reason", error.message),
                    ]
                )
            )
            logger.warning(
                "refused: \(error.message)",
                metadata: ["device": "\(device)", "requester": "\(requester)", "code": "\(error.code.rawValue)"]
            )
            let rejected = CertificateAPI.Rejected(
                statusCode: error.code.statusCode,
                errorCode: error.code.rawValue,
                errorMessage: error.message
            )
            return Reply(topic: topic + "/rejected", payload: rejected.payload)
        }
    }

    /// A device renews: it has an active certificate in the registry, asks within the rate limit, with a new key.
    private func renewal(id: String, payload: [UInt8], now: Int64) throws(ResponderFailure) -> CertificateSigner.Issued
    {
        try checkRate(id: id, now: now)
        let (request, csr) = try parseRequest(payload, id: id)
        return try updateRegistry { rows throws(ResponderFailure) in
            let active = rows.filter { $0.deviceID == id && $0.status == "active" }
            guard !active.isEmpty else {
                throw ResponderFailure(
                    .notRegistered,
                    "device '\(id)' has no active certificate in the factory registry; provision it with pinpost-factory first"
                )
            }
            for row in active {
                if let current = signer.certificate(serial: row.serial), request.hasSameKey(as: current) {
                    throw ResponderFailure(
                        .keyReuse,
                        "the request certifies the key of the current certificate (serial \(row.serial)); a renewal needs a new key"
                    )
                }
            }
            let issued = try signer.sign(csr: csr, deviceID: id, now: now)
            rows.append(row(id: id, issued: issued, flow: "renewal", now: now))
            return issued
        }
    }

    /// A board with a claim certificate asks for its own identity: the claim is one this CA accepts, and the id was
    /// registered for a claim and has no identity yet.
    private func claim(
        _ claim: String,
        id: String,
        payload: [UInt8],
        now: Int64
    ) throws(ResponderFailure) -> CertificateSigner.Issued {
        guard configuration.claims.contains(claim) else {
            throw ResponderFailure(
                .notRegistered,
                "'\(claim)' is not a claim identity this CA accepts (requests.claims in \(configuration.file))"
            )
        }
        try checkRate(id: id, now: now)
        let (_, csr) = try parseRequest(payload, id: id)
        return try updateRegistry { rows throws(ResponderFailure) in
            if rows.contains(where: { $0.deviceID == id && $0.status == "active" }) {
                throw ResponderFailure(
                    .notRegistered,
                    "device '\(id)' already has an identity; a claim cannot replace it (revoke it first)"
                )
            }
            guard let index = rows.firstIndex(where: { $0.deviceID == id && $0.status == "claimable" }) else {
                throw ResponderFailure(
                    .notRegistered,
                    "device '\(id)' is not registered for a claim; register it with: pinpost-factory register FACTORY_DIR --id \(id)"
                )
            }
            let issued = try signer.sign(csr: csr, deviceID: id, now: now)
            rows[index].status = "claimed"
            rows.append(row(id: id, issued: issued, flow: "claim:\(claim)", now: now))
            return issued
        }
    }

    private func parseRequest(_ payload: [UInt8], id: String) throws(ResponderFailure) -> (CertificateRequest, [UInt8])
    {
        guard let pem = CertificateAPI.requestedCSR(payload) else {
            throw ResponderFailure(.invalidRequest, "the payload is not JSON with certificateSigningRequest")
        }
        let bytes = Array(pem.utf8)
        guard let request = CertificateRequest(pem: bytes) else {
            throw ResponderFailure(.invalidRequest, "certificateSigningRequest is not a PEM certificate request")
        }
        guard request.hasValidSelfSignature else {
            throw ResponderFailure(.invalidRequest, "the request is not signed by the key it carries")
        }
        guard request.hasAcceptableKey else {
            throw ResponderFailure(
                .invalidRequest,
                "the request's key (\(request.keyDescription)) is too weak: use EC P-256/P-384/P-521 or RSA 2048+"
            )
        }
        if let name = request.commonName, name != id {
            throw ResponderFailure(
                .invalidRequest,
                "the request names CN '\(name)', not the device '\(id)' it came from"
            )
        }
        return (request, bytes)
    }

    /// At most `requests.max_requests` per device within `requests.window`: the requests this process saw, and the
    /// certificates the registry says were issued in the window (which a restart does not forget).
    private func checkRate(id: String, now: Int64) throws(ResponderFailure) {
        let window = configuration.window.components.seconds
        let seen = requests.withLock { table -> Int in
            var times = (table[id] ?? []).filter { $0 > now - window }
            times.append(now)
            table[id] = times
            return times.count - 1
        }
        // Certificates this responder issued (renewals, claims) in the window; the factory's own do not count.
        let issued = ((try? registry.rows()) ?? []).filter {
            $0.deviceID == id && ($0.flow == "renewal" || $0.flow.hasPrefix("claim:"))
                && (Self.parseUTC($0.issuedAt) ?? 0) > now - window
        }.count
        if max(seen, issued) >= configuration.maxRequests {
            throw ResponderFailure(
                .throttled,
                "device '\(id)' asked \(max(seen, issued) + 1) times within \(configuration.window.components.seconds) s; at most \(configuration.maxRequests) (requests.max_requests); try again later"
            )
        }
    }

    private func row(id: String, issued: CertificateSigner.Issued, flow: String, now: Int64) -> Registry.Row {
        Registry.Row(
            deviceID: id,
            serial: issued.serial,
            fingerprint: issued.fingerprint,
            notAfter: Self.opensslDate(issued.notAfter),
            status: "active",
            issuedAt: Self.utc(now),
            flow: flow
        )
    }

    private func updateRegistry<T>(
        _ change: (inout [Registry.Row]) throws(ResponderFailure) -> T
    ) throws(ResponderFailure) -> T {
        do {
            return try registry.update { rows in try change(&rows) }
        } catch let failure as ResponderFailure {
            throw failure
        } catch {
            throw ResponderFailure(.internalError, "the registry \(configuration.registry): \(error)")
        }
    }

    // MARK: Activation

    /// The device connected with its new certificate: every other active certificate of it is revoked (superseded)
    /// and the CRL published for the broker.
    private func activation(id: String, payload: [UInt8]) {
        let json = (try? JSONValue.parse(payload))
        guard let fingerprint = json?["certificateId"]?.string else {
            logger.warning("activation notice without certificateId ignored", metadata: ["device": "\(id)"])
            return
        }
        var revoked: [String] = []
        do {
            revoked = try updateRegistry { rows throws(ResponderFailure) in
                guard
                    rows.contains(where: { $0.deviceID == id && $0.fingerprint == fingerprint && $0.status == "active" }
                    )
                else {
                    throw ResponderFailure(
                        .notRegistered,
                        "no active certificate of '\(id)' has fingerprint \(fingerprint)"
                    )
                }
                var revoked: [String] = []
                for index in rows.indices
                where rows[index].deviceID == id && rows[index].status == "active"
                    && rows[index].fingerprint != fingerprint
                {
                    try signer.revoke(serial: rows[index].serial)
                    rows[index].status = "revoked"
                    revoked.append(rows[index].serial)
                }
                return revoked
            }
        } catch {
            record(
                .init(
                    event: "activation-ignored",
                    device: id,
                    [("fingerprint", fingerprint), ("reason", error.message)]
                )
            )
            logger.warning("activation notice ignored: \(error.message)", metadata: ["device": "\(id)"])
            return
        }
        record(.init(event: "activated", device: id, [("fingerprint", fingerprint)]))
        guard !revoked.isEmpty else { return }
        do {
            try signer.publishCRL()
            for serial in revoked {
                record(.init(event: "revoked", device: id, [("serial", serial), ("reason", "superseded")]))
            }
            logger.notice(
                "revoked the superseded certificate(s); CRL published",
                metadata: ["device": "\(id)", "serials": "\(revoked.joined(separator: " "))"]
            )
        } catch {
            record(.init(event: "crl-failed", device: id, [("reason", error.message)]))
            logger.error("revoked \(revoked) but the CRL was not published: \(error.message)")
        }
    }

    private func record(_ entry: AuditLog.Entry) {
        do {
            try audit.append(entry)
        } catch {
            logger.error("audit log not written: \(error)")
        }
    }

    // MARK: Text

    static func utc(_ seconds: Int64) -> String {
        UTCTime(epochMilliseconds: seconds * 1000).rfc3339Seconds
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` to seconds since the epoch.
    static func parseUTC(_ text: String) -> Int64? {
        let digits = text.split(whereSeparator: { "-T:Z".contains($0) }).compactMap { Int64($0) }
        guard digits.count == 6 else { return nil }
        let (year, month, day) = (digits[0], digits[1], digits[2])
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return days * 86_400 + digits[3] * 3600 + digits[4] * 60 + digits[5]
    }

    /// As `openssl x509 -enddate` prints it, which `pinpost-factory` writes to the registry: `Dec  5 10:00:00 2027 GMT`.
    static func opensslDate(_ seconds: Int64) -> String {
        let text = utc(seconds)  // 2027-12-05T10:00:00Z
        let parts = text.split(whereSeparator: { "-TZ".contains($0) }).map(String.init)
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let month = months[(Int(parts[1]) ?? 1) - 1]
        let day = Int(parts[2]) ?? 1
        return "\(month) \(day < 10 ? " " : "")\(day) \(parts[3]) \(parts[0]) GMT"
    }

    /// A random token for `certificateOwnershipToken` (Pinpost's CA asks nothing of it; AWS's RegisterThing does).
    static func token() -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        try? SecureRandom.fill(&bytes, count: bytes.count)
        return bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
