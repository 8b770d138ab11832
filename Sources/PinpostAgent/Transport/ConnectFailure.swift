public import TLS

/// Why a connection attempt failed, distinguished because each has a different fix and back-off.
public enum ConnectFailure: Error, Sendable, CustomStringConvertible {
    case nameResolution(host: String, detail: String)
    case refused(host: String, port: Int, detail: String)
    case timeout(host: String, port: Int, after: Duration)
    case tls(TLSError)
    case other(String)

    /// Certificate and trust problems do not heal by retrying quickly; `TLSError.isTrustFailure` decides.
    ///
    /// A connection merely closed during the handshake is not one: a broker restarting, or a load
    /// balancer without a backend, does the same. A TLS alert about a certificate is.
    public var isTrustFailure: Bool {
        guard case .tls(let error) = self else { return false }
        return error.isTrustFailure
    }

    /// Whether an error that ended an established connection is about trust (the broker refusing this device's
    /// certificate with a TLS alert, say); anything else (a reset, an EOF) is not.
    static func isTrustFailure(_ error: (any Error)?) -> Bool {
        (error as? TLSError)?.isTrustFailure ?? false
    }

    public var description: String {
        switch self {
        case .nameResolution(let host, let detail):
            "DNS: cannot resolve '\(host)' (\(detail)); fix: check broker.host and the device's resolver"
        case .refused(let host, let port, let detail):
            "TCP: connection to \(host):\(port) refused (\(detail)); fix: check that the broker runs and broker.port is its TLS port"
        case .timeout(let host, let port, let after):
            "TCP: no answer from \(host):\(port) within \(after); fix: check the network path and broker.host"
        case .tls(let error):
            "TLS: \(error)"
        case .other(let detail):
            detail
        }
    }
}
