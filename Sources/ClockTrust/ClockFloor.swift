internal import CPinpostLinux
public import TLS
internal import Timestamps

/// The earliest time the wall clock can possibly be: when this binary was built, and the newest
/// notBefore among the certificates the agent uses. A clock below it is wrong, whatever any
/// synchronization source says, so the agent never connects then.
public struct ClockFloor: Sendable, Equatable {
    /// Epoch seconds.
    public var buildTime: Int64
    public var newestNotBefore: Int64?
    /// Validity windows of the certificates in use: a plausible clock lies inside all of them.
    public var validity: [(label: String, notBefore: Int64, notAfter: Int64)]

    public static func == (lhs: ClockFloor, rhs: ClockFloor) -> Bool {
        lhs.buildTime == rhs.buildTime && lhs.newestNotBefore == rhs.newestNotBefore
            && lhs.validity.map(\.label) == rhs.validity.map(\.label)
    }

    public init(buildTime: Int64, certificates: [(label: String, certificate: CertificateSummary)]) {
        self.buildTime = buildTime
        self.validity = certificates.map { ($0.label, $0.certificate.notBefore, $0.certificate.notAfter) }
        self.newestNotBefore = certificates.map(\.certificate.notBefore).max()
    }

    /// When this binary was built (compile time of the Linux shim, or SOURCE_DATE_EPOCH).
    public static var binaryBuildTime: Int64 { Int64(CPinpostLinux_build_epoch()) }

    /// The floor for a device: build time plus the device chain and trust anchors' notBefore.
    /// Unreadable certificate files add nothing here; the TLS set-up reports them.
    public static func make(certificateFile: String, trustAnchorFile: String?) -> ClockFloor {
        var certificates: [(String, CertificateSummary)] = []
        if let chain = try? CertificateSummary.load(pemFile: certificateFile, field: "tls.cert_file") {
            certificates += chain.map { ("device certificate \($0.subject)", $0) }
        }
        if let caFile = trustAnchorFile,
            let anchors = try? CertificateSummary.load(pemFile: caFile, field: "tls.ca_file")
        {
            certificates += anchors.map { ("trust anchor \($0.subject)", $0) }
        }
        return ClockFloor(buildTime: binaryBuildTime, certificates: certificates)
    }

    public var floor: Int64 { max(buildTime, newestNotBefore ?? buildTime) }

    /// Why `now` (epoch seconds) cannot be right, or nil when it is at or above the floor.
    public func violation(now: Int64) -> String? {
        guard now < floor else { return nil }
        let reason =
            (newestNotBefore ?? 0) > buildTime
            ? "the newest certificate in use is valid only from \(UTCTime(epochMilliseconds: floor * 1000).rfc3339Seconds)"
            : "this pinpost binary was built at \(UTCTime(epochMilliseconds: buildTime * 1000).rfc3339Seconds)"
        return
            "the wall clock reads \(UTCTime(epochMilliseconds: now * 1000).rfc3339Seconds), which cannot be right: \(reason); fix: set the clock or enable NTP (timedatectl set-ntp true); the agent will not connect until then"
    }

    /// Above the floor and inside every certificate's validity: good enough to proceed without sync
    /// when `time.on_timeout = "proceed-if-plausible"`.
    public func isPlausible(now: Int64) -> Bool {
        violation(now: now) == nil && validity.allSatisfy { now >= $0.notBefore && now <= $0.notAfter }
    }
}
