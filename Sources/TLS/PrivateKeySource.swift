/// Where the device's private key is: a file, or hardware that never lets the key out.
///
/// Hardware keys are named the way OpenSSL names them, so one config key (`tls.key_file`) covers all three.
public enum PrivateKeySource: Sendable, Equatable, CustomStringConvertible {
    /// A PEM private key file (must be private to the agent's user).
    case file(String)
    /// A key on a PKCS#11 token (`pkcs11:token=…;object=…`), used through the OpenSSL pkcs11 engine.
    /// `module` is the PKCS#11 module (default: p11-kit-proxy); `pin` unlocks the token.
    case pkcs11(uri: String, module: String?, pin: String?)
    /// A TPM 2.0 key (`handle:0x81000001`), used through the tpm2-openssl provider and OSSL_STORE.
    case tpm(uri: String)

    /// Classifies a `tls.key_file` value: `pkcs11:` and `handle:` URIs are hardware keys, anything else a path.
    public static func parse(_ value: String, module: String? = nil, pin: String? = nil) -> PrivateKeySource {
        if value.hasPrefix("pkcs11:") { return .pkcs11(uri: value, module: module, pin: pin) }
        if value.hasPrefix("handle:") { return .tpm(uri: value) }
        return .file(value)
    }

    /// The file path, when the key is a file.
    public var filePath: String? {
        if case .file(let path) = self { return path }
        return nil
    }

    /// The key's location for messages; a PIN given in a URI (`pin-value=`) is never shown.
    public var description: String {
        switch self {
        case .file(let path): path
        case .pkcs11(let uri, _, _): Self.redacted(uri)
        case .tpm(let uri): Self.redacted(uri)
        }
    }

    static func redacted(_ uri: String) -> String {
        var parts: [String] = []
        for part in uri.split(separator: ";", omittingEmptySubsequences: false) {
            if part.hasPrefix("pin-value=") {
                parts.append("pin-value=***")
            } else if let query = part.firstIndex(of: "?") {
                parts.append(String(part[..<query]) + "?***")
            } else {
                parts.append(String(part))
            }
        }
        return parts.joined(separator: ";")
    }
}
