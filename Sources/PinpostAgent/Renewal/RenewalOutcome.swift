internal import Timestamps

/// How one renewal ended, for the caller of `RenewalService.renewNow`, `pinpost renew` and the log.
public struct RenewalOutcome: Sendable, CustomStringConvertible {
    /// True when the agent now runs with a new certificate the broker accepted.
    public var renewed: Bool
    /// Why it did not renew (nil when renewed).
    public var failure: RenewalFailure?
    /// The new certificate's serial (hex) and end of validity (seconds since the epoch), when renewed.
    public var serial: String?
    public var notAfter: Int64?
    /// From publishing the request to the broker's acceptance of the new identity.
    public var requestToConnection: Duration?

    public var description: String {
        if renewed {
            let took = requestToConnection.map { " in \(Self.milliseconds($0)) ms" } ?? ""
            return
                "renewed: serial \(serial ?? "?"), valid until \(notAfter.map(CertificateText.utc) ?? "?"), connected with it\(took)"
        }
        return "not renewed (\(failure?.code.rawValue ?? "?")): \(failure?.message ?? "")"
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}

enum CertificateText {
    static func utc(_ seconds: Int64) -> String {
        UTCTime(epochMilliseconds: seconds * 1000).rfc3339Seconds
    }
}
