/// How strictly the broker's chain is checked against CRLs (`tls.crl_mode`).
///
/// A missing or expired CRL fails the handshake in both checking modes: a revocation check that
/// silently passes without data would be no check at all.
public enum RevocationMode: String, Sendable, Equatable {
    /// `"require"`: every certificate in the chain must be covered by a current CRL from its issuer.
    case chain = "require"
    /// `"leaf"`: only the broker's own certificate must be covered by a current CRL.
    case leaf
    /// `"off"`: no revocation check.
    case off
}
