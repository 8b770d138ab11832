/// The factory's `manifest` (format 1): who the bundle is for and the SHA-256 of every file in it.
///
/// ```
/// # comment
/// format=1
/// device_id=dev-0001
/// flow=station
/// serial=1A2B...
/// fingerprint_sha256=abcd...
/// sha256 <hex> device.crt
/// ```
/// Other `key=value` lines (validity, issuer, creation time) are informative and not checked.
public struct BundleManifest: Sendable, Equatable {
    /// Station flow: the key was made at the factory and travels in the bundle. Device flow: the key
    /// was made on the board (`--make-csr`) and never left it.
    public enum Flow: String, Sendable, Equatable {
        case station
        case device
    }

    /// The files a bundle may carry besides `manifest` and `manifest.sig`.
    public static let bundleFiles = ["device.crt", "device.key", "ca.crt", "pinpost.toml"]

    public var deviceID: String
    public var flow: Flow
    public var serial: String
    public var fingerprint: String
    /// File name to SHA-256 (lower-case hex).
    public var files: [String: String]

    public init(parsing text: String) throws(BundleInstallError) {
        var fields: [String: String] = [:]
        var files: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("#") { continue }
            if line.hasPrefix("sha256 ") {
                let parts = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
                guard parts.count == 3 else {
                    throw BundleInstallError(
                        .manifestInvalid,
                        "manifest line '\(line)' is not 'sha256 <hash> <file>'"
                    )
                }
                let (hash, name) = (parts[1], parts[2])
                guard Self.bundleFiles.contains(name) else {
                    throw BundleInstallError(
                        .manifestInvalid,
                        "manifest lists '\(name)', which is not a bundle file (\(Self.bundleFiles.joined(separator: ", ")))"
                    )
                }
                guard files[name] == nil else {
                    throw BundleInstallError(.manifestInvalid, "manifest lists '\(name)' twice")
                }
                files[name] = hash.lowercased()
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<equals])
            if fields[key] == nil { fields[key] = String(line[line.index(after: equals)...]) }
        }
        guard fields["format"] == "1" else {
            throw BundleInstallError(
                .manifestInvalid,
                "manifest format is '\(fields["format"] ?? "")', expected 1; use a matching pinpost install-bundle"
            )
        }
        let id = fields["device_id"] ?? ""
        guard DeviceID.isValid(id) else {
            throw BundleInstallError(.manifestInvalid, "manifest device_id '\(id)' is not a valid device id")
        }
        guard let flow = Flow(rawValue: fields["flow"] ?? "") else {
            throw BundleInstallError(
                .manifestInvalid,
                "manifest flow '\(fields["flow"] ?? "")' is neither station nor device"
            )
        }
        self.deviceID = id
        self.flow = flow
        self.serial = fields["serial"] ?? ""
        self.fingerprint = (fields["fingerprint_sha256"] ?? "").lowercased()
        self.files = files
    }
}

/// The device id rule (README: 1-64 of `A-Z a-z 0-9 . _ -`), the same as `device.id` in pinpost.toml.
enum DeviceID {
    static func isValid(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64
            && id.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                    true
                default:
                    false
                }
            }
    }
}
