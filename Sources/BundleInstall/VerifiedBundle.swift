/// A bundle that passed every check, holding the very bytes that were checked: what gets installed
/// is what was verified, even if the bundle's folder changes in between.
public struct VerifiedBundle: Sendable, Equatable {
    public var manifest: BundleManifest
    /// Installed file name (`device.key` in the station flow, `device.crt`, `ca.crt`, `bundle.manifest`,
    /// `pinpost.toml`) to its content.
    public var files: [String: [UInt8]]
}
