public import TLS

/// How long the device certificate has left, so an operator renews it before the device goes dark.
///
/// A public value (not just a log line) so the status message and `pinpost check` can carry it.
public struct DeviceCertificateStatus: Sendable, Equatable {
    public var certificate: CertificateSummary
    /// Whole days until `notAfter` (0 on the last day).
    public var daysLeft: Int
    /// `tls.expiry_warning_days`.
    public var warningDays: Int

    public init(certificate: CertificateSummary, now: Int64, warningDays: Int) {
        self.certificate = certificate
        self.daysLeft = Int(max(0, certificate.notAfter - now) / 86_400)
        self.warningDays = warningDays
    }

    /// Whether the certificate expires within `tls.expiry_warning_days`.
    public var expiresSoon: Bool { daysLeft < warningDays }

    /// A warning to log, or nil when there is time.
    public var warning: String? {
        guard expiresSoon else { return nil }
        return
            "the device certificate expires in \(daysLeft) day(s) (notAfter \(CertificateSummary.utc(certificate.notAfter)), within tls.expiry_warning_days = \(warningDays)); fix: renew it before then"
    }
}
