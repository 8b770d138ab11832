internal import SystemExtras
internal import SystemPackage
internal import TLS

/// The on-device flow: the key is made on the board, in `<root>/etc/pinpost/device.key` (0600, the
/// agent's), and only a certificate request travels to the factory. An existing key is reused, so
/// running it twice asks for the same key to be certified.
public enum DeviceKeyEnrollment {
    public struct Outcome: Sendable, Equatable {
        public var keyFile: String
        /// Whether the key was already there.
        public var reused: Bool
    }

    /// Makes (or reuses) the key and writes a request for CN=`deviceID` to `requestFile` (mode 0644).
    public static func enroll(
        deviceID: String,
        destination: String,
        accounts: SystemAccounts,
        requestFile: String
    ) throws(BundleInstallError) -> Outcome {
        guard DeviceID.isValid(deviceID) else {
            throw BundleInstallError(
                .usage,
                "--make-csr '\(deviceID)' is not a device id: 1-64 of A-Z a-z 0-9 . _ -"
            )
        }
        let keyFile = destination + "/device.key"
        do {
            try FileSystem.ensureDirectory(
                destination,
                mode: BundleInstaller.folderMode,
                owner: 0,
                group: accounts.groupID
            )
        } catch {
            throw BundleInstallError(.writeFailed, "\(error)")
        }
        let key: DevicePrivateKey
        let reused = FileSystem.entryKind(keyFile) != nil
        if reused {
            guard let bytes = try? FileSystem.readFile(keyFile), let existing = DevicePrivateKey(pem: bytes) else {
                throw BundleInstallError(
                    .keyMaterial,
                    "\(keyFile) exists but is not a PEM private key; remove it to make a new one (the old one is then lost)"
                )
            }
            key = existing
        } else {
            do {
                key = try DevicePrivateKey.generateP256()
                let staged = destination + "/.device.key.new"
                FileSystem.remove(staged)
                try FileSystem.createFile(
                    staged,
                    contents: try key.pem(),
                    mode: 0o600,
                    owner: accounts.userID,
                    group: accounts.groupID
                )
                try FileSystem.renameAtomically(staged, to: keyFile)
                try FileSystem.syncDirectory(destination)
            } catch let error as KeyMaterialError {
                throw BundleInstallError(.keyMaterial, "\(error)")
            } catch {
                throw BundleInstallError(.writeFailed, "\(error)")
            }
        }
        do {
            let request = try key.certificateRequest(commonName: deviceID)
            try FileSystem.writeFileAtomically(
                requestFile,
                request,
                permissions: [.ownerReadWrite, .groupRead, .otherRead]
            )
        } catch let error as KeyMaterialError {
            throw BundleInstallError(.keyMaterial, "\(error)")
        } catch {
            throw BundleInstallError(
                .writeFailed,
                "cannot write the request to --out '\(requestFile)' (\(error)); check the folder exists and is writable"
            )
        }
        return Outcome(keyFile: keyFile, reused: reused)
    }
}
