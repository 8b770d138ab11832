import BundleInstall
import Foundation
import PinpostAgent
import Testing

@Suite("Bundle installation")
struct BundleInstallerTests {
    static let accounts = (user: UInt32(4242), group: UInt32(4243))

    func install(_ bundle: String, board: String, anchor: String?, replace: Bool = false) throws {
        let verifier = BundleVerifier(bundle: bundle, root: board, trustAnchor: anchor, replace: replace)
        let verified = try verifier.verify()
        let accounts = try SystemAccounts(user: "pinpost", group: "pinpost", root: board)
        try BundleInstaller(destination: verifier.destination, accounts: accounts).install(verified)
    }

    func attributes(_ path: String) throws -> (mode: Int, owner: UInt32, group: UInt32) {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (
            (attributes[.posixPermissions] as? Int) ?? -1,
            UInt32((attributes[.ownerAccountID] as? NSNumber)?.uint32Value ?? .max),
            UInt32((attributes[.groupOwnerAccountID] as? NSNumber)?.uint32Value ?? .max)
        )
    }

    @Test func installsWithTheDocumentedOwnersAndModesAndLeavesNoStaging() throws {
        let bundles = try Bundles.shared.get()
        let board = try bundles.fixture.board("layout")
        // A staging folder an interrupted run left behind is cleared.
        let leftover = board + "/etc/pinpost/.install.abc123"
        try FileManager.default.createDirectory(atPath: leftover, withIntermediateDirectories: true)
        try "half".write(toFile: leftover + "/device.key", atomically: true, encoding: .utf8)

        try install(bundles.good, board: board, anchor: bundles.fixture.rootCertificate)
        let destination = board + "/etc/pinpost"
        let (user, group) = Self.accounts
        let expected: [(String, Int, UInt32, UInt32)] = [
            ("", 0o750, 0, group), ("/device.key", 0o600, user, group), ("/device.crt", 0o644, 0, 0),
            ("/ca.crt", 0o644, 0, 0), ("/bundle.manifest", 0o644, 0, 0), ("/pinpost.toml", 0o640, 0, group),
        ]
        for (suffix, mode, owner, ownerGroup) in expected {
            let found = try attributes(destination + suffix)
            #expect(
                found.mode == mode && found.owner == owner && found.group == ownerGroup,
                "/etc/pinpost\(suffix): \(String(found.mode, radix: 8)) \(found.owner):\(found.group)"
            )
        }
        #expect(
            Set(try FileManager.default.contentsOfDirectory(atPath: destination))
                == ["device.key", "device.crt", "ca.crt", "bundle.manifest", "pinpost.toml"]
        )
        for name in ["device.key", "device.crt", "ca.crt", "pinpost.toml"] {
            #expect(
                FileManager.default.contents(atPath: destination + "/" + name)
                    == FileManager.default.contents(atPath: bundles.good + "/" + name)
            )
        }
        // The installed config is the agent's: it loads from its place.
        #expect(try ConfigLoader.load(path: destination + "/pinpost.toml").device.id == "dev-0005")
        // Installing the same bundle again repairs or repeats; it is not another device.
        try install(bundles.good, board: board, anchor: bundles.fixture.rootCertificate)
    }

    @Test func anotherDevicesIdentityIsReplacedOnlyWhenAsked() throws {
        let bundles = try Bundles.shared.get()
        let board = try bundles.fixture.board("replace")
        try install(bundles.good, board: board, anchor: bundles.fixture.rootCertificate)
        let before = FileManager.default.contents(atPath: board + "/etc/pinpost/device.key")
        let error = try #require(throws: BundleInstallError.self) {
            try install(bundles.other, board: board, anchor: bundles.fixture.rootCertificate)
        }
        #expect(error.code == .replacesAnotherDevice && error.exitCode == 65)
        #expect(error.reason.contains("already holds the identity of device 'dev-0005'"), "\(error)")
        #expect(FileManager.default.contents(atPath: board + "/etc/pinpost/device.key") == before)

        try install(bundles.other, board: board, anchor: bundles.fixture.rootCertificate, replace: true)
        #expect(
            FileManager.default.contents(atPath: board + "/etc/pinpost/device.crt")
                == FileManager.default.contents(atPath: bundles.other + "/device.crt")
        )
    }

    /// A key made inside a TPM never exists as a file: the bundle's config names it (`--key-ref`), and the
    /// installer checks the certificate against that key, not against a device.key that is not there. Here no
    /// TPM answers, so the bundle is refused naming the handle (the virtual board proves the positive path).
    @Test func onDeviceFlowWithAHardwareKeyChecksThatKey() throws {
        let bundles = try Bundles.shared.get()
        let fixture = bundles.fixture
        let keyFile = fixture.folder + "/dev-0008.tpm-stand-in.key"
        let request = fixture.folder + "/dev-0008.csr"
        _ = try BundleFixture.run(
            "/usr/bin/openssl",
            ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", keyFile]
        )
        _ = try BundleFixture.run(
            "/usr/bin/openssl",
            ["req", "-new", "-key", keyFile, "-subj", "/CN=dev-0008", "-out", request]
        )
        let bundle = try fixture.bundle("dev-0008", extra: ["--csr", request, "--key-ref", "handle:0x81000001"])
        let config = try String(contentsOfFile: bundle + "/pinpost.toml", encoding: .utf8)
        #expect(config.contains(#"key_file = "handle:0x81000001""#), "\(config)")
        let board = try fixture.board("tpm")
        let refused = try #require(throws: BundleInstallError.self) {
            try install(bundle, board: board, anchor: fixture.rootCertificate)
        }
        #expect(refused.code == .keyUnreadable && refused.reason.contains("handle:0x81000001"), "\(refused)")
        #expect(!refused.reason.contains("--make-csr"), "a hardware key is not looked for in device.key")
        #expect(!FileManager.default.fileExists(atPath: board + "/etc/pinpost/pinpost.toml"), "nothing installed")
    }

    @Test func onDeviceFlowKeepsTheKeyOnTheBoard() throws {
        let bundles = try Bundles.shared.get()
        let fixture = bundles.fixture
        let board = try fixture.board("csr")
        let accounts = try SystemAccounts(user: "pinpost", group: "pinpost", root: board)
        let request = fixture.folder + "/dev-0007.csr"
        let made = try DeviceKeyEnrollment.enroll(
            deviceID: "dev-0007",
            destination: board + "/etc/pinpost",
            accounts: accounts,
            requestFile: request
        )
        #expect(!made.reused)
        let keyFile = board + "/etc/pinpost/device.key"
        let key = try attributes(keyFile)
        #expect(key.mode == 0o600 && key.owner == Self.accounts.user && key.group == Self.accounts.group)
        let subject = try BundleFixture.run(
            "/usr/bin/openssl",
            ["req", "-in", request, "-noout", "-verify", "-subject"]
        )
        #expect(subject.contains("CN = dev-0007") || subject.contains("CN=dev-0007"), "\(subject)")
        let keyBefore = FileManager.default.contents(atPath: keyFile)

        // Asked again, the same key is certified.
        #expect(
            try DeviceKeyEnrollment.enroll(
                deviceID: "dev-0007",
                destination: board + "/etc/pinpost",
                accounts: accounts,
                requestFile: request
            ).reused
        )
        let bundle = try fixture.bundle("dev-0007", extra: ["--csr", request])
        #expect(!FileManager.default.fileExists(atPath: bundle + "/device.key"), "the bundle carries no key")
        try install(bundle, board: board, anchor: fixture.rootCertificate)
        #expect(FileManager.default.contents(atPath: keyFile) == keyBefore, "the key never moved")

        // A board without the key, or with another one, refuses the bundle.
        let bare = try fixture.board("csr-bare")
        let missing = try #require(throws: BundleInstallError.self) {
            try install(bundle, board: bare, anchor: fixture.rootCertificate)
        }
        #expect(missing.code == .keyUnreadable && missing.reason.contains("--make-csr dev-0007"), "\(missing)")
        let otherBoard = try fixture.board("csr-other")
        _ = try DeviceKeyEnrollment.enroll(
            deviceID: "dev-0007",
            destination: otherBoard + "/etc/pinpost",
            accounts: try SystemAccounts(user: "pinpost", group: "pinpost", root: otherBoard),
            requestFile: fixture.folder + "/other.csr"
        )
        let mismatch = try #require(throws: BundleInstallError.self) {
            try install(bundle, board: otherBoard, anchor: fixture.rootCertificate)
        }
        #expect(mismatch.code == .keyMismatch, "\(mismatch)")

        let badID = try #require(throws: BundleInstallError.self) {
            try DeviceKeyEnrollment.enroll(
                deviceID: "dev/7",
                destination: board + "/etc/pinpost",
                accounts: accounts,
                requestFile: request
            )
        }
        #expect(badID.exitCode == 2)
    }

    @Test func aFailedWriteInstallsNothingAndSaysSo() throws {
        let bundles = try Bundles.shared.get()
        let board = try bundles.fixture.board("unwritable")
        // /etc/pinpost cannot be made: a file is in the way.
        try "not a folder".write(toFile: board + "/etc/pinpost", atomically: true, encoding: .utf8)
        let error = try #require(throws: BundleInstallError.self) {
            try install(bundles.good, board: board, anchor: bundles.fixture.rootCertificate)
        }
        #expect(error.code == .writeFailed && error.exitCode == 1, "\(error)")
        #expect(error.reason.contains("nothing was installed"), "\(error)")

        let noUsers = try BundleFixture.temporaryFolder("no-users")
        let accounts = try #require(throws: BundleInstallError.self) {
            try SystemAccounts(user: "pinpost", group: "pinpost", root: noUsers)
        }
        #expect(accounts.code == .accountMissing && accounts.reason.contains("install the pinpost package first"))
    }

    /// Figure (printed, not asserted): verify and install one bundle, in process.
    @Test func timeToVerifyAndInstall() throws {
        let bundles = try Bundles.shared.get()
        let rounds = 20
        var boards: [String] = []
        for index in 0..<rounds { boards.append(try bundles.fixture.board("timing-\(index)")) }
        let clock = ContinuousClock()
        let elapsed = try clock.measure {
            for board in boards { try install(bundles.good, board: board, anchor: bundles.fixture.rootCertificate) }
        }
        print("verify + install of one bundle: \(elapsed / rounds) (mean of \(rounds))")
    }
}
