/// OCSP stapling policy (`tls.ocsp`): the broker may send a signed "good" status for its certificate.
public enum OCSPMode: String, Sendable, Equatable {
    /// No staple is requested.
    case off
    /// A staple is requested; when sent it must verify and say "good", but a broker that sends none
    /// (Mosquitto 2.0 listeners cannot staple) is accepted.
    case soft
    /// A valid "good" staple is required; a broker that sends none is refused.
    case require
}
