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
        let key = try privateKeyBytes(manifest, files: files)
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

        try checkConfig(files["pinpost.toml"] ?? [], manifest: manifest, certificate: summary)
        let keyFile = manifest.flow == .station ? path("device.key") : destinationPath("device.key")
        guard let privateKey = DevicePrivateKey(pem: key) else {
            throw BundleInstallError(
                .keyUnreadable,
                "cannot read the private key \(keyFile): not an unencrypted PEM private key"
            )
        }
        guard privateKey.matches(leaf) else {
            throw BundleInstallError(.keyMismatch, "the private key \(keyFile) does not belong to device.crt")
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

    /// The station flow carries the key; the device flow's key was made on this board and stays there.
    private func privateKeyBytes(
        _ manifest: BundleManifest,
        files: [String: [UInt8]]
    ) throws(BundleInstallError) -> [UInt8] {
        switch manifest.flow {
        case .station:
            guard let key = files["device.key"] else {
                throw BundleInstallError(.manifestInvalid, "a station-flow bundle must carry device.key")
            }
            return key
        case .device:
            guard files["device.key"] == nil else {
                throw BundleInstallError(.manifestInvalid, "an on-device-flow bundle must not carry a private key")
            }
            let keyFile = destinationPath("device.key")
            guard FileSystem.entryKind(keyFile) == .regularFile, let key = try? FileSystem.readFile(keyFile) else {
                throw BundleInstallError(
                    .keyUnreadable,
                    "on-device flow: no key at \(keyFile); make it first with: pinpost install-bundle --make-csr \(manifest.deviceID) --out \(manifest.deviceID).csr"
                )
            }
            return key
        }
    }

    /// The agent's own loader and identity rule, so a bundle the agent would refuse is never installed.
    private func checkConfig(
        _ bytes: [UInt8],
        manifest: BundleManifest,
        certificate: CertificateSummary
    ) throws(BundleInstallError) {
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
