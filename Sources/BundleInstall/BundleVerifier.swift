internal import PinpostAgent
internal import SystemExtras
internal import TLS

/// Checks a factory bundle with the agent's own code before anything is written: the manifest and its
/// signature by the CA that issued the certificate, the SHA-256 of every file and nothing unlisted, the
/// chain to the trust anchor with clientAuth, CN, serial and fingerprint against the manifest, the
/// config through `ConfigLoader` and `DeviceIdentity`, the key against the certificate, and that
/// another device's installed identity is not replaced unless asked.
public struct BundleVerifier: Sendable {
    /// The bundle folder (`pinpost-factory device` made it).
    public var bundle: String
    /// The board's root (`/`, or an image being built).
    public var root: String
    /// PEM trust anchor for the device certificate's chain; nil uses the bundle's own `ca.crt`, which
    /// proves consistency but not origin.
    public var trustAnchor: String?
    /// Whether an installed identity of another device may be replaced.
    public var replace: Bool

    public init(bundle: String, root: String, trustAnchor: String?, replace: Bool) {
        self.bundle = bundle
        self.root = root
        self.trustAnchor = trustAnchor
        self.replace = replace
    }

    /// `<root>/etc/pinpost`.
    public var destination: String { FileSystem.absolute("etc/pinpost", relativeTo: root) }

    public func verify() throws(BundleInstallError) -> VerifiedBundle {
        let pinnedAnchors = try pinnedTrustAnchors()
        guard FileSystem.entryKind(bundle + "/.") == .directory else {
            throw BundleInstallError(
                .notABundle,
                "'\(bundle)' is not a folder; pass the bundle folder made by pinpost-factory device"
            )
        }
        guard FileSystem.entryKind(path("manifest")) == .regularFile else {
            throw BundleInstallError(.notABundle, "'\(bundle)' has no manifest; it is not a pinpost-factory bundle")
        }
        guard FileSystem.entryKind(path("manifest.sig")) == .regularFile else {
            throw BundleInstallError(
                .notABundle,
                "'\(path("manifest.sig"))' is missing; the bundle is incomplete or was not made by pinpost-factory"
            )
        }
        let manifestBytes = try read("manifest")
        let manifest = try BundleManifest(parsing: String(decoding: manifestBytes, as: UTF8.self))
        let files = try listedFiles(manifest)
        let anchors: (name: String, certificates: [X509Certificate])
        if let pinnedAnchors { anchors = pinnedAnchors } else { anchors = try bundledTrustAnchors(files) }

        // The chain, and the manifest's signature by the CA that issued the certificate.
        let certificates = X509Certificate.certificates(pem: files["device.crt"] ?? [])
        guard let leaf = certificates.first else {
            throw BundleInstallError(.chainRejected, "device.crt holds no PEM certificate")
        }
        let chain: [X509Certificate]
        switch ClientChainVerification.verify(
            leaf: leaf,
            intermediates: Array(certificates.dropFirst()),
            anchors: anchors.certificates
        ) {
        case .success(let verified): chain = verified
        case .failure(let failure):
            throw BundleInstallError(
                .chainRejected,
                "device.crt does not chain to the trust anchor \(anchors.name) with clientAuth: \(failure)"
            )
        }
        let issuer = chain.count > 1 ? chain[1] : anchors.certificates[0]
        guard issuer.verifiesSignature(try read("manifest.sig"), over: manifestBytes) else {
            throw BundleInstallError(
                .signatureInvalid,
                "manifest.sig is not the issuing CA's signature over manifest: the manifest was changed"
            )
        }

        // The certificate is the one the manifest names.
        let summary = leaf.summary
        guard summary.commonName == manifest.deviceID else {
            throw BundleInstallError(
                .certificateMismatch,
                "the certificate's CN '\(summary.commonName ?? "(none)")' is not the manifest's device_id '\(manifest.deviceID)'"
            )
        }
        guard Self.sameSerial(leaf.serialHex, manifest.serial) else {
            throw BundleInstallError(
                .certificateMismatch,
                "the certificate's serial \(leaf.serialHex) is not the manifest's \(manifest.serial)"
            )
        }
        guard leaf.sha256Fingerprint == manifest.fingerprint else {
            throw BundleInstallError(
                .certificateMismatch,
                "the certificate's SHA-256 fingerprint is not the manifest's"
            )
        }

        let configuration = try checkConfig(files["pinpost.toml"] ?? [], manifest: manifest, certificate: summary)
        let (privateKey, keyName) = try devicePrivateKey(manifest, files: files, configuration: configuration)
        guard privateKey.matches(leaf) else {
            throw BundleInstallError(.keyMismatch, "the private key \(keyName) does not belong to device.crt")
        }
        try checkNotReplacingAnotherDevice(manifest.deviceID)

        var installed = files
        installed["bundle.manifest"] = manifestBytes
        if manifest.flow == .device { installed["device.key"] = nil }
        return VerifiedBundle(manifest: manifest, files: installed)
    }

    // MARK: Steps

    /// `--ca`, read before anything else (a wrong one is a usage error); nil without it.
    private func pinnedTrustAnchors() throws(BundleInstallError) -> (name: String, certificates: [X509Certificate])? {
        guard let trustAnchor else { return nil }
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(trustAnchor, limit: 4 << 20)
        } catch {
            throw BundleInstallError(
                .usage,
                "--ca '\(trustAnchor)' cannot be read (\(error)); pass the factory root certificate (PEM)"
            )
        }
        let certificates = X509Certificate.certificates(pem: bytes)
        guard !certificates.isEmpty else {
            throw BundleInstallError(
                .usage,
                "--ca '\(trustAnchor)' holds no PEM certificate; pass the factory root certificate (PEM)"
            )
        }
        return (trustAnchor, certificates)
    }

    /// The bundle's own `ca.crt`, as listed and hashed.
    private func bundledTrustAnchors(
        _ files: [String: [UInt8]]
    ) throws(BundleInstallError) -> (name: String, certificates: [X509Certificate]) {
        let certificates = X509Certificate.certificates(pem: files["ca.crt"] ?? [])
        guard !certificates.isEmpty else {
            throw BundleInstallError(.chainRejected, "ca.crt holds no PEM certificate")
        }
        return (path("ca.crt"), certificates)
    }

    /// Every listed file read and hashed; nothing unlisted; the files every bundle needs.
    private func listedFiles(_ manifest: BundleManifest) throws(BundleInstallError) -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        for name in BundleManifest.bundleFiles {
            guard let expected = manifest.files[name] else { continue }
            guard FileSystem.entryKind(path(name)) == .regularFile else {
                throw BundleInstallError(
                    .fileMissing,
                    "'\(name)' is listed in the manifest but missing from the bundle (or is a symlink)"
                )
            }
            let bytes = try read(name)
            let actual = SHA256Digest.hex(bytes)
            guard actual == expected else {
                throw BundleInstallError(
                    .fileChanged,
                    "'\(name)' does not match its SHA-256 in the manifest (expected \(expected), found \(actual)): the file was changed or damaged"
                )
            }
            files[name] = bytes
        }
        for name in FileSystem.listDirectory(bundle).sorted()
        where name != "manifest" && name != "manifest.sig" && files[name] == nil {
            throw BundleInstallError(.fileUnlisted, "'\(name)' is in the bundle but not in the manifest")
        }
        for name in ["device.crt", "ca.crt", "pinpost.toml"] where files[name] == nil {
            throw BundleInstallError(.manifestInvalid, "the manifest does not list \(name), which every bundle needs")
        }
        return files
    }

    /// The station flow carries the key; the device flow's key was made on this board and stays there: in
    /// `device.key` beside the config, or in hardware (a TPM `handle:` or a `pkcs11:` token named by the
    /// bundled config's `tls.key_file`), where it is loaded as a handle and never leaves.
    private func devicePrivateKey(
        _ manifest: BundleManifest,
        files: [String: [UInt8]],
        configuration: AgentConfiguration
    ) throws(BundleInstallError) -> (key: DevicePrivateKey, name: String) {
        switch manifest.flow {
        case .station:
            guard let bytes = files["device.key"] else {
                throw BundleInstallError(.manifestInvalid, "a station-flow bundle must carry device.key")
            }
            return (try pemKey(bytes, name: path("device.key")), path("device.key"))
        case .device:
            guard files["device.key"] == nil else {
                throw BundleInstallError(.manifestInvalid, "an on-device-flow bundle must not carry a private key")
            }
            let configured = configuration.tls.keyFile
            if configured.hasPrefix("handle:") || configured.hasPrefix("pkcs11:") {
                let source = PrivateKeySource.parse(
                    configured,
                    module: configuration.tls.pkcs11Module,
                    pin: try hardwareKeyPIN(configuration)
                )
                do {
                    return (try DevicePrivateKey.hardware(source), "\(source)")
                } catch {
                    throw BundleInstallError(
                        .keyUnreadable,
                        "on-device flow: \(error); fix: make the key in the TPM or token first, and check tls.key_file in pinpost.toml (for a TPM, TPM2OPENSSL_TCTI)"
                    )
                }
            }
            let keyFile = destinationPath("device.key")
            guard FileSystem.entryKind(keyFile) == .regularFile, let bytes = try? FileSystem.readFile(keyFile) else {
                throw BundleInstallError(
                    .keyUnreadable,
                    "on-device flow: no key at \(keyFile); make it first with: pinpost install-bundle --make-csr \(manifest.deviceID) --out \(manifest.deviceID).csr"
                )
            }
            return (try pemKey(bytes, name: keyFile), keyFile)
        }
    }

    private func pemKey(_ bytes: [UInt8], name: String) throws(BundleInstallError) -> DevicePrivateKey {
        guard let key = DevicePrivateKey(pem: bytes) else {
            throw BundleInstallError(
                .keyUnreadable,
                "cannot read the private key \(name): not an unencrypted PEM private key"
            )
        }
        return key
    }

    /// A token's PIN from `tls.pin_file`, which lives on the board (a secret is never in a bundle): the bundled
    /// config names it relative to its own folder, so it is looked for in the destination.
    private func hardwareKeyPIN(_ configuration: AgentConfiguration) throws(BundleInstallError) -> String? {
        guard let pinFile = configuration.tls.pinFile else { return nil }
        let relative = pinFile.hasPrefix(bundle + "/") ? String(pinFile.dropFirst(bundle.count + 1)) : pinFile
        let onBoard =
            relative.hasPrefix("/")
            ? FileSystem.absolute(String(relative.dropFirst()), relativeTo: root) : destinationPath(relative)
        guard let bytes = try? FileSystem.readFile(onBoard, limit: 4096) else {
            throw BundleInstallError(
                .keyUnreadable,
                "on-device flow: the token PIN file \(onBoard) (tls.pin_file) cannot be read; fix: put the PIN there first (0600, the agent's)"
            )
        }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").first.map(String.init)
    }

    /// The agent's own loader and identity rule, so a bundle the agent would refuse is never installed.
    @discardableResult
    private func checkConfig(
        _ bytes: [UInt8],
        manifest: BundleManifest,
        certificate: CertificateSummary
    ) throws(BundleInstallError) -> AgentConfiguration {
        let configuration: AgentConfiguration
        do {
            configuration = try ConfigLoader.parse(String(decoding: bytes, as: UTF8.self), file: path("pinpost.toml"))
        } catch {
            throw BundleInstallError(
                .configRejected,
                "pinpost.toml does not load with the agent's config loader: \(error)"
            )
        }
        guard configuration.device.id == manifest.deviceID else {
            throw BundleInstallError(
                .configRejected,
                "pinpost.toml has device.id '\(configuration.device.id)', not the manifest's '\(manifest.deviceID)'"
            )
        }
        do {
            try DeviceIdentity.check(configuration: configuration, certificate: certificate)
        } catch {
            throw BundleInstallError(.configRejected, error.message)
        }
        return configuration
    }

    private func checkNotReplacingAnotherDevice(_ id: String) throws(BundleInstallError) {
        let installed = destinationPath("pinpost.toml")
        guard !replace, FileSystem.entryKind(installed) != nil else { return }
        let current: String
        do {
            current = try ConfigLoader.load(path: installed).device.id
        } catch {
            throw BundleInstallError(
                .replacesAnotherDevice,
                "\(destination) already holds a config that does not load (\(error)); decommission it first (pinpost decommission), or pass --replace"
            )
        }
        guard current == id else {
            throw BundleInstallError(
                .replacesAnotherDevice,
                "\(destination) already holds the identity of device '\(current)'; decommission it first (pinpost decommission), or pass --replace"
            )
        }
    }

    // MARK: Helpers

    private func path(_ name: String) -> String { FileSystem.absolute(name, relativeTo: bundle) }

    private func destinationPath(_ name: String) -> String { FileSystem.absolute(name, relativeTo: destination) }

    private func read(_ name: String) throws(BundleInstallError) -> [UInt8] {
        do {
            return try FileSystem.readFile(path(name), limit: 1 << 20)
        } catch {
            throw BundleInstallError(.fileMissing, "cannot read '\(name)' of the bundle: \(error)")
        }
    }

    /// Serial numbers as hex, ignoring case and leading zeros.
    static func sameSerial(_ a: String, _ b: String) -> Bool {
        func normal(_ text: String) -> String { String(text.uppercased().drop { $0 == "0" }) }
        return !a.isEmpty && normal(a) == normal(b)
    }
}
