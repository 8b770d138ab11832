internal import SystemExtras

/// Puts a verified bundle into `<root>/etc/pinpost` with the owners and modes README documents: each
/// file written to a staging folder next to its place, synced, then renamed in, `pinpost.toml` last
/// (it is what lets `pinpost.service` start). Each rename is atomic; the set is not, and a re-run
/// repairs a set a power cut interrupted.
public struct BundleInstaller: Sendable {
    /// Who owns an installed file: root, the agent (`pinpost:pinpost`), or root with the agent's group.
    public enum Owner: Sendable, Equatable {
        case root
        case agent
        case rootWithAgentGroup
    }

    public struct InstalledFile: Sendable, Equatable {
        public var name: String
        public var mode: UInt32
        public var owner: Owner
    }

    /// The layout, in rename order.
    public static let layout = [
        InstalledFile(name: "device.key", mode: 0o600, owner: .agent),
        InstalledFile(name: "device.crt", mode: 0o644, owner: .root),
        InstalledFile(name: "ca.crt", mode: 0o644, owner: .root),
        InstalledFile(name: "bundle.manifest", mode: 0o644, owner: .root),
        InstalledFile(name: "pinpost.toml", mode: 0o640, owner: .rootWithAgentGroup),
    ]
    /// `/etc/pinpost` itself: root:pinpost 0750.
    public static let folderMode: UInt32 = 0o750
    static let stagingPrefix = ".install."

    public var destination: String
    public var accounts: SystemAccounts

    public init(destination: String, accounts: SystemAccounts) {
        self.destination = destination
        self.accounts = accounts
    }

    public func install(_ bundle: VerifiedBundle) throws(BundleInstallError) {
        do {
            try FileSystem.ensureDirectory(destination, mode: Self.folderMode, owner: 0, group: accounts.groupID)
        } catch {
            throw BundleInstallError(.writeFailed, "\(error); nothing was installed")
        }
        removeLeftoverStaging()
        let stage: String
        do {
            stage = try FileSystem.createTemporaryDirectory(in: destination, prefix: Self.stagingPrefix)
        } catch {
            throw BundleInstallError(.writeFailed, "\(error) (read-only or full?); nothing was installed")
        }
        let files = Self.layout.filter { bundle.files[$0.name] != nil }
        do {
            for file in files {
                let (owner, group) = ids(file.owner)
                try FileSystem.createFile(
                    stage + "/" + file.name,
                    contents: bundle.files[file.name] ?? [],
                    mode: file.mode,
                    owner: owner,
                    group: group
                )
            }
            try FileSystem.syncDirectory(stage)
        } catch {
            Self.remove(stage)
            throw BundleInstallError(.writeFailed, "\(error) (disk full?); nothing was installed")
        }
        do {
            for file in files {
                try FileSystem.renameAtomically(stage + "/" + file.name, to: destination + "/" + file.name)
            }
            try FileSystem.removeDirectory(stage)
            try FileSystem.syncDirectory(destination)
        } catch {
            throw BundleInstallError(
                .writeFailed,
                "\(error) (partially installed; run the same command again to finish)"
            )
        }
    }

    private func ids(_ owner: Owner) -> (UInt32, UInt32) {
        switch owner {
        case .root: (0, 0)
        case .agent: (accounts.userID, accounts.groupID)
        case .rootWithAgentGroup: (0, accounts.groupID)
        }
    }

    /// Staging folders an interrupted run left behind (they never hold anything installed).
    private func removeLeftoverStaging() {
        for name in FileSystem.listDirectory(destination) where name.hasPrefix(Self.stagingPrefix) {
            let path = destination + "/" + name
            if FileSystem.entryKind(path) == .directory { Self.remove(path) }
        }
    }

    private static func remove(_ folder: String) {
        for name in FileSystem.listDirectory(folder) { FileSystem.remove(folder + "/" + name) }
        try? FileSystem.removeDirectory(folder)
    }
}
