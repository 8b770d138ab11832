import BundleInstall
import Foundation
import Testing

/// One factory and its bundles for every case (the tools take about a second per factory).
struct Bundles: Sendable {
    let fixture: BundleFixture
    /// dev-0005 and dev-0006 from the same factory; dev-0005 from another factory with its own root.
    let good: String
    let other: String
    let rogue: String

    init() throws {
        fixture = try BundleFixture("bundles")
        good = try fixture.bundle("dev-0005")
        other = try fixture.bundle("dev-0006")
        rogue = try BundleFixture("rogue-factory").bundle("dev-0005")
    }

    static let shared = Result { try Bundles() }.mapError { FixtureError("\($0)") }
}

/// Every way a bundle can be wrong, each refused with its code and reason before anything is written.
enum Tamper: String, CaseIterable, Sendable {
    case configEdited
    case certificateSwapped
    case unlistedFile
    case manifestRehashedForAnotherDevice
    case signatureSwapped
    case listedFileMissing
    case listedFileIsASymlink
    case manifestMissing
    case formatChanged
    case fromAnotherFactory
    case keySwappedAndResigned
    case configForAnotherIDAndResigned
    case configTheAgentRefusesAndResigned
    case manifestForAnotherIDAndResigned
    case serialChangedAndResigned

    var expected: (code: BundleInstallError.Code, reason: String) {
        switch self {
        case .configEdited: (.fileChanged, "'pinpost.toml' does not match its SHA-256 in the manifest")
        case .certificateSwapped: (.fileChanged, "'device.crt' does not match its SHA-256")
        case .unlistedFile: (.fileUnlisted, "'authorized_keys' is in the bundle but not in the manifest")
        case .manifestRehashedForAnotherDevice, .signatureSwapped:
            (.signatureInvalid, "manifest.sig is not the issuing CA's signature over manifest")
        case .listedFileMissing: (.fileMissing, "'ca.crt' is listed in the manifest but missing from the bundle")
        case .listedFileIsASymlink:
            (.fileMissing, "'ca.crt' is listed in the manifest but missing from the bundle (or is a symlink)")
        case .manifestMissing: (.notABundle, "has no manifest; it is not a pinpost-factory bundle")
        case .formatChanged: (.manifestInvalid, "manifest format is '2', expected 1")
        case .fromAnotherFactory: (.chainRejected, "device.crt does not chain to the trust anchor")
        case .keySwappedAndResigned: (.keyMismatch, "/device.key does not belong to device.crt")
        case .configForAnotherIDAndResigned:
            (.configRejected, "pinpost.toml has device.id 'dev-0006', not the manifest's 'dev-0005'")
        case .configTheAgentRefusesAndResigned:
            (.configRejected, "does not load with the agent's config loader: ")
        case .manifestForAnotherIDAndResigned:
            (.certificateMismatch, "the certificate's CN 'dev-0005' is not the manifest's device_id 'dev-0006'")
        case .serialChangedAndResigned: (.certificateMismatch, "is not the manifest's 0123")
        }
    }

    /// A tampered copy of the good bundle.
    func make(_ bundles: Bundles) throws -> String {
        let fixture = bundles.fixture
        if self == .fromAnotherFactory { return bundles.rogue }
        let path = try fixture.copy(bundles.good, as: rawValue)
        let files = FileManager.default
        func replace(_ name: String) throws {
            try files.removeItem(atPath: path + "/" + name)
            try files.copyItem(atPath: bundles.other + "/" + name, toPath: path + "/" + name)
        }
        func edit(_ name: String, _ change: (String) -> String) throws {
            let text = try String(contentsOfFile: path + "/" + name, encoding: .utf8)
            try change(text).write(toFile: path + "/" + name, atomically: true, encoding: .utf8)
        }
        switch self {
        case .configEdited: try edit("pinpost.toml") { $0.replacingOccurrences(of: "localhost", with: "evil.example") }
        case .certificateSwapped: try replace("device.crt")
        case .unlistedFile:
            try "ssh-ed25519 AAAA".write(toFile: path + "/authorized_keys", atomically: true, encoding: .utf8)
        case .manifestRehashedForAnotherDevice:
            try replace("device.crt")
            try replace("device.key")
            var lines = try String(contentsOfFile: path + "/manifest", encoding: .utf8).split(separator: "\n")
                .map(String.init)
            for name in ["device.crt", "device.key"] {
                let hash = try BundleFixture.run("/usr/bin/sha256sum", [path + "/" + name]).split(separator: " ")[0]
                lines = lines.map { $0.hasSuffix(" " + name) ? "sha256 \(hash) \(name)" : $0 }
            }
            try (lines.joined(separator: "\n") + "\n").write(
                toFile: path + "/manifest",
                atomically: true,
                encoding: .utf8
            )
        case .signatureSwapped: try replace("manifest.sig")
        case .listedFileMissing: try files.removeItem(atPath: path + "/ca.crt")
        case .listedFileIsASymlink:
            try files.removeItem(atPath: path + "/ca.crt")
            try files.createSymbolicLink(atPath: path + "/ca.crt", withDestinationPath: bundles.good + "/ca.crt")
        case .manifestMissing: try files.removeItem(atPath: path + "/manifest")
        case .formatChanged: try edit("manifest") { $0.replacingOccurrences(of: "format=1", with: "format=2") }
        case .fromAnotherFactory: break
        case .keySwappedAndResigned:
            try replace("device.key")
            try fixture.resign(path)
        case .configForAnotherIDAndResigned:
            try edit("pinpost.toml") { $0.replacingOccurrences(of: "id = \"dev-0005\"", with: "id = \"dev-0006\"") }
            try fixture.resign(path)
        case .configTheAgentRefusesAndResigned:
            try edit("pinpost.toml") { $0.replacingOccurrences(of: "protocol = \"5\"", with: "protocol = \"4\"") }
            try fixture.resign(path)
        case .manifestForAnotherIDAndResigned:
            try fixture.resign(path) { $0.replacingOccurrences(of: "device_id=dev-0005", with: "device_id=dev-0006") }
        case .serialChangedAndResigned:
            try fixture.resign(path) { text in
                text.split(separator: "\n").map { $0.hasPrefix("serial=") ? "serial=0123" : String($0) }
                    .joined(separator: "\n")
            }
        }
        return path
    }
}

@Suite("Bundle verification")
struct BundleVerifierTests {
    @Test(arguments: Tamper.allCases)
    func tamperedBundlesAreRejectedWithTheReasonAndNothingIsWritten(_ tamper: Tamper) throws {
        let bundles = try Bundles.shared.get()
        let bundle = try tamper.make(bundles)
        let board = try bundles.fixture.board("tamper-\(tamper.rawValue)")
        let before = try snapshot(bundle)
        let verifier = BundleVerifier(
            bundle: bundle,
            root: board,
            trustAnchor: bundles.fixture.rootCertificate,
            replace: false
        )
        let error = try #require(throws: BundleInstallError.self) { try verifier.verify() }
        #expect(error.code == tamper.expected.code, "\(error)")
        #expect(error.reason.contains(tamper.expected.reason), "\(error.reason)")
        #expect(error.exitCode == 65)
        #expect(!FileManager.default.fileExists(atPath: board + "/etc/pinpost"), "nothing is written")
        #expect(try snapshot(bundle) == before, "the bundle is only read")
    }

    @Test func theAgentsLoaderNamesTheKeyItRefuses() throws {
        let bundles = try Bundles.shared.get()
        let bundle = try Tamper.configTheAgentRefusesAndResigned.make(bundles)
        let verifier = BundleVerifier(
            bundle: bundle,
            root: try bundles.fixture.board("loader"),
            trustAnchor: bundles.fixture.rootCertificate,
            replace: false
        )
        let error = try #require(throws: BundleInstallError.self) { try verifier.verify() }
        #expect(error.reason.contains("pinpost.toml: broker.protocol: '4' is not a supported MQTT version"), "\(error)")
    }

    @Test func anIntactBundleVerifiesWithTheFactoryRootAndWithItsOwnCA() throws {
        let bundles = try Bundles.shared.get()
        let board = try bundles.fixture.board("intact")
        for anchor in [bundles.fixture.rootCertificate, nil] {
            let verified = try BundleVerifier(bundle: bundles.good, root: board, trustAnchor: anchor, replace: false)
                .verify()
            #expect(verified.manifest.deviceID == "dev-0005" && verified.manifest.flow == .station)
            #expect(
                Set(verified.files.keys) == ["device.key", "device.crt", "ca.crt", "bundle.manifest", "pinpost.toml"]
            )
            #expect(
                verified.files["bundle.manifest"]
                    == Array(try Data(contentsOf: URL(fileURLWithPath: bundles.good + "/manifest")))
            )
        }
    }

    @Test func aWrongTrustAnchorIsAUsageError() throws {
        let bundles = try Bundles.shared.get()
        let board = try bundles.fixture.board("anchor")
        let notPEM = bundles.fixture.folder + "/not-a-certificate"
        try "hello".write(toFile: notPEM, atomically: true, encoding: .utf8)
        for (anchor, reason) in [
            ("/nonexistent/root.crt", "--ca '/nonexistent/root.crt' cannot be read"),
            (notPEM, "holds no PEM certificate"),
        ] {
            let error = try #require(throws: BundleInstallError.self) {
                try BundleVerifier(bundle: bundles.good, root: board, trustAnchor: anchor, replace: false).verify()
            }
            #expect(error.code == .usage && error.exitCode == 2 && error.reason.contains(reason), "\(error)")
        }
    }

    func snapshot(_ folder: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
            files[name] = FileManager.default.contents(atPath: folder + "/" + name)
        }
        return files
    }
}
