import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What an operator installs: the hardened unit and the Debian package, checked with Debian's own
/// tools (systemd-analyze, dpkg) rather than by reading our files back.
@Suite("Service unit and Debian package", .serialized, .timeLimit(.minutes(15)), .childProcessesEndWithTheTest)
struct ShipTests {
    static var unit: String { Repository.root.appendingPathComponent("board/systemd/pinpost.service").path }

    @Test func unitExposureIsAtMostTwo() async throws {
        let analyze = "/usr/bin/systemd-analyze"
        try #require(
            FileManager.default.isExecutableFile(atPath: analyze),
            "systemd-analyze missing: board/dev/install-deps installs the systemd package"
        )
        let result = try await Command.run(analyze, ["security", "--offline=yes", Self.unit])
        let line = try #require(
            result.output.split(separator: "\n").first { $0.contains("Overall exposure level") },
            "\(result.output)"
        )
        let score = try #require(
            line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) },
            "\(line)"
        )
        print("systemd-analyze security: \(line)")
        #expect(score <= 2.0, "\(result.output)")
    }

    @Test func unitKeepsWhatTheAgentNeedsAndStopsLoopsOnConfigErrors() throws {
        let text = try String(contentsOfFile: Self.unit, encoding: .utf8)
        let lines = Set(text.split(separator: "\n").map(String.init))
        for required in [
            "Type=notify", "Wants=network-online.target time-sync.target",
            "After=network-online.target time-sync.target",
            "User=pinpost", "SupplementaryGroups=gpio", "StateDirectory=pinpost", "ConfigurationDirectory=pinpost",
            "Restart=on-failure", "RestartPreventExitStatus=77 78", "DevicePolicy=closed",
            "DeviceAllow=char-gpiochip rw",
            "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK", "SystemCallFilter=@system-service",
            "SystemCallFilter=adjtimex", "ConditionPathExists=/etc/pinpost/pinpost.toml", "CapabilityBoundingSet=",
        ] {
            #expect(lines.contains(required), "pinpost.service lacks \(required)")
        }
        #expect(
            lines.contains { $0.hasPrefix("StartLimitBurst=") }
                && lines.contains { $0.hasPrefix("StartLimitIntervalSec=") }
        )
        #expect(!lines.contains("ProtectClock=yes"), "ProtectClock denies adjtimex, which the clock gate needs")
        #expect(!lines.contains("PrivateDevices=yes"), "PrivateDevices hides /dev/gpiochip*")
    }

    /// Builds the package (one release build per run), installs it into an empty root with dpkg
    /// (`--root`, maintainer scripts run chrootless with DPKG_ROOT) and checks modes, owners, the
    /// user, the enablement, the conffile, then a bundle install and an upgrade keeping the conffile.
    @Test func packageInstallsWithTheRightModesAndOwners() async throws {
        let build = try await Command.run(
            Repository.root.appendingPathComponent("board/debian/build-deb").path,
            [],
            timeout: .seconds(720)
        )
        try #require(build.status == 0, "\(build.output)")
        let deb = build.output.split(separator: "\n").last.map(String.init) ?? ""
        let size = (try? FileManager.default.attributesOfItem(atPath: deb))?[.size] as? Int ?? 0
        print("package \(deb): \(size) bytes")

        let root = try Repository.temporaryFolder("dpkg-root")
        for folder in ["var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "etc"] {
            try FileManager.default.createDirectory(
                at: root.appendingPathComponent(folder),
                withIntermediateDirectories: true
            )
        }
        for file in ["var/lib/dpkg/status", "var/lib/dpkg/available"] {
            _ = FileManager.default.createFile(atPath: root.appendingPathComponent(file).path, contents: nil)
        }
        func dpkg(_ arguments: [String]) async throws -> CommandResult {
            try await Command.run(
                "/usr/bin/env",
                [
                    "DPKG_ROOT=\(root.path)", "/usr/bin/dpkg", "--root=\(root.path)", "--force-script-chrootless",
                    "--force-depends", "--log=/dev/null",
                ] + arguments,
                timeout: .seconds(120)
            )
        }
        let install = try await dpkg(["-i", deb])
        #expect(install.status == 0, "\(install.output)")
        #expect(install.output.contains("not provisioned yet"), "postinst says what to do next: \(install.output)")

        func ids(_ file: String, _ name: String) throws -> [String] {
            let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
            return try #require(
                text.split(separator: "\n").map {
                    $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                }.first { $0[0] == name },
                "\(name) not in \(file)"
            )
        }
        let user = try ids("etc/passwd", "pinpost")
        let uid = try #require(UInt32(user[2]))
        let gid = try #require(UInt32(user[3]))
        #expect(user[6] == "/usr/sbin/nologin" && user[5] == "/var/lib/pinpost")
        #expect(
            try ids("etc/group", "gpio")[3].split(separator: ",").contains("pinpost"),
            "pinpost is in the group that owns /dev/gpiochip*"
        )

        let expected: [(String, Int, UInt32, UInt32)] = [
            ("usr/bin/pinpost", 0o755, 0, 0), ("usr/sbin/pinpost-install-bundle", 0o755, 0, 0),
            ("usr/lib/systemd/system/pinpost.service", 0o644, 0, 0), ("usr/lib/sysusers.d/pinpost.conf", 0o644, 0, 0),
            ("usr/lib/tmpfiles.d/pinpost.conf", 0o644, 0, 0),
            ("usr/lib/udev/rules.d/60-pinpost-gpio.rules", 0o644, 0, 0),
            ("etc/pinpost", 0o750, 0, gid), ("etc/pinpost/pinpost.toml.example", 0o644, 0, 0),
            ("var/lib/pinpost", 0o700, uid, gid), ("usr/share/doc/pinpost/README.md", 0o644, 0, 0),
        ]
        for (path, mode, owner, group) in expected {
            var info = stat()
            #expect(lstat(root.appendingPathComponent(path).path, &info) == 0, "\(path) missing")
            #expect(
                Int(info.st_mode & 0o7777) == mode && info.st_uid == owner && info.st_gid == group,
                "\(path): mode \(String(info.st_mode & 0o7777, radix: 8)) \(info.st_uid):\(info.st_gid), expected \(String(mode, radix: 8)) \(owner):\(group)"
            )
        }
        // Enabled (a wants-symlink) but nothing provisioned, so the unit's condition keeps it idle.
        let wants = root.appendingPathComponent("etc/systemd/system/multi-user.target.wants/pinpost.service").path
        #expect(
            (try? FileManager.default.destinationOfSymbolicLink(atPath: wants))?.hasSuffix("/pinpost.service") == true
        )
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("etc/pinpost/pinpost.toml").path))
        let status = try await dpkg(["-s", "pinpost"])
        #expect(
            status.output.contains("Status: install ok installed")
                && status.output.contains("/etc/pinpost/pinpost.toml.example"),
            "\(status.output)"
        )
        // The packaged binary runs without any Swift runtime package.
        let version = try await Command.run(root.appendingPathComponent("usr/bin/pinpost").path, ["version"])
        #expect(version.output.hasPrefix("pinpost "), "\(version.output)")

        // A bundle installs into the package's /etc/pinpost, owned by the package's user.
        let factory = try await ProvisioningFactory(in: try Repository.temporaryFolder("ship-factory"))
        let bundle = try await factory.provision("dev-0100", port: 8883)
        let installed = try await Command.run(
            root.appendingPathComponent("usr/sbin/pinpost-install-bundle").path,
            [bundle, "--root", root.path, "--ca", factory.rootCertificate]
        )
        #expect(installed.status == 0, "\(installed.output)")
        var key = stat()
        #expect(
            stat(root.appendingPathComponent("etc/pinpost/device.key").path, &key) == 0 && key.st_uid == uid
                && key.st_mode & 0o777 == 0o600
        )

        // Upgrade (reinstall): the edited conffile and the installed identity stay.
        let example = root.appendingPathComponent("etc/pinpost/pinpost.toml.example").path
        try "# edited by the operator\n".write(toFile: example, atomically: true, encoding: .utf8)
        let upgrade = try await dpkg(["--force-confold", "-i", deb])
        #expect(upgrade.status == 0, "\(upgrade.output)")
        #expect(try String(contentsOfFile: example, encoding: .utf8) == "# edited by the operator\n")
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("etc/pinpost/pinpost.toml").path))

        // Purge removes the state and the enablement, and keeps (and names) the identity.
        let purge = try await dpkg(["--purge", "pinpost"])
        #expect(purge.status == 0 && purge.output.contains("pinpost decommission"), "\(purge.output)")
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("var/lib/pinpost").path))
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("usr/bin/pinpost").path))
    }
}
