import Foundation
import PinpostAgent
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Factory provisioning end to end with the shipped tools (provisioning/pinpost-factory,
/// `pinpost install-bundle`, mosquitto-conf), a real Mosquitto and the real pinpost binary.
@Suite(
    "Factory provisioning, bundles, ACL and revocation",
    .serialized,
    .timeLimit(.minutes(5)),
    .childProcessesEndWithTheTest
)
struct ProvisioningTests {
    @Test func fiftyDevicesEachConnectAndPublishWithTheirOwnIdentity() async throws {
        let folder = try Repository.temporaryFolder("factory50")
        let factory = try await ProvisioningFactory(in: folder)
        let broker = try await ProvisioningBroker(factory: factory)
        let observer = try await ProvisioningObserver(
            broker: broker,
            bundle: try await factory.provision(ProvisioningBroker.observer, port: broker.port)
        )

        let ids = (1...50).map { String(format: "dev-%04d", $0) }
        let started = ContinuousClock.now
        for id in ids { try await factory.provision(id, port: broker.port) }
        let provisioning = ContinuousClock.now - started
        print("provisioned \(ids.count) devices in \(provisioning)")

        // Each bundle's own pinpost.toml passes every pre-flight check, including the MQTT CONNECT
        // with its own certificate; then each device publishes in its namespace.
        for id in ids {
            let check = try await Command.run(
                try Repository.agentBinary,
                ["check", "--config", factory.bundle(id) + "/pinpost.toml", "--timeout", "10"]
            )
            #expect(check.status == 0, "\(id): \(check.output)")
            let publish = try await broker.publish(
                bundle: factory.bundle(id),
                topic: "devices/\(id)/hello",
                message: id
            )
            #expect(publish.status == 0, "\(id): \(publish.output)")
        }
        let lines = try await observer.wait { $0.count >= ids.count }
        #expect(Set(lines) == Set(ids.map { "devices/\($0)/hello \($0)" }))

        // The registry holds one active line per device, with distinct serials and fingerprints.
        let registry = try String(contentsOfFile: factory.registry, encoding: .utf8).split(separator: "\n").dropFirst()
            .map { $0.split(separator: ",") }
        #expect(registry.count == ids.count + 1)
        #expect(Set(registry.map { $0[1] }).count == registry.count, "serials are unique")
        #expect(Set(registry.map { $0[2] }).count == registry.count, "fingerprints are unique")
        #expect(registry.allSatisfy { $0[4] == "active" })
    }

    @Test func aDeviceCannotPublishOrSubscribeInAnotherDevicesNamespace() async throws {
        let folder = try Repository.temporaryFolder("factory-acl")
        let factory = try await ProvisioningFactory(in: folder)
        let broker = try await ProvisioningBroker(factory: factory)
        let observer = try await ProvisioningObserver(
            broker: broker,
            bundle: try await factory.provision(ProvisioningBroker.observer, port: broker.port)
        )
        let one = try await factory.provision("dev-0001", port: broker.port)
        try await factory.provision("dev-0002", port: broker.port)

        #expect(
            try await broker.publish(bundle: one, topic: "devices/dev-0002/sensors/door", message: "forged").status == 0
        )
        #expect(try await broker.publish(bundle: one, topic: "elsewhere/x", message: "outside").status == 0)
        #expect(
            try await broker.publish(bundle: one, topic: "devices/dev-0001/sensors/door", message: "own").status == 0
        )
        let lines = try await observer.wait { $0.contains("devices/dev-0001/sensors/door own") }
        #expect(lines == ["devices/dev-0001/sensors/door own"], "only the device's own namespace may be written")

        // Mosquitto grants every SUBSCRIBE and applies the ACL per message, so the proof is what a
        // device receives: with subscriptions over all devices, only its own commands arrive.
        let two = factory.bundle("dev-0002")
        let spy = try await ProvisioningObserver(
            broker: broker,
            bundle: one,
            topics: ["devices/#", "devices/dev-0002/commands/#", "#"]
        )
        #expect(
            try await broker.publish(bundle: two, topic: "devices/dev-0002/commands/reboot", message: "for-two").status
                == 0
        )
        #expect(
            try await broker.publish(bundle: two, topic: "devices/dev-0002/sensors/door", message: "two-reading").status
                == 0
        )
        #expect(
            try await broker.publish(bundle: one, topic: "devices/dev-0001/sensors/door", message: "own-reading").status
                == 0
        )
        #expect(
            try await broker.publish(bundle: one, topic: "devices/dev-0001/commands/ping", message: "for-one").status
                == 0
        )
        let received = try await spy.wait { $0.contains { $0.hasSuffix("for-one") } }
        #expect(
            Set(received) == ["devices/dev-0001/commands/ping for-one"],
            "a device reads only its own command topics: \(received)"
        )
        let delivered = try await observer.wait { $0.contains { $0.hasSuffix("for-one") } }
        #expect(delivered.contains("devices/dev-0002/commands/reboot for-two"), "the messages were delivered to others")
    }

    @Test func aRevokedDeviceIsRefusedByTheBroker() async throws {
        let folder = try Repository.temporaryFolder("factory-revoke")
        let factory = try await ProvisioningFactory(in: folder)
        let broker = try await ProvisioningBroker(factory: factory)
        let revoked = try await factory.provision("dev-0003", port: broker.port)
        let kept = try await factory.provision("dev-0004", port: broker.port)
        let agent = try Repository.agentBinary
        #expect(try await Command.run(agent, ["check", "--config", revoked + "/pinpost.toml"]).status == 0)

        try await factory.revoke("dev-0003")
        try await broker.restart()
        let refused = try await Command.run(agent, ["check", "--config", revoked + "/pinpost.toml", "--timeout", "5"])
        #expect(refused.status == 1, "the revoked device must fail: \(refused.output)")
        #expect(refused.output.contains("FAIL"))
        #expect(try await broker.publish(bundle: revoked, topic: "devices/dev-0003/x", message: "x").status != 0)
        let accepted = try await Command.run(agent, ["check", "--config", kept + "/pinpost.toml"])
        #expect(accepted.status == 0, "other devices are unaffected: \(accepted.output)")

        let registry = try String(contentsOfFile: factory.registry, encoding: .utf8)
        #expect(
            registry.contains { _ in true }
                && registry.split(separator: "\n").contains { $0.hasPrefix("dev-0003,") && $0.contains(",revoked,") }
        )
        let crl = try await Command.check("/usr/bin/openssl", ["crl", "-in", factory.crl, "-noout", "-text"])
        let serial = try await Command.check(
            "/usr/bin/openssl",
            ["x509", "-in", revoked + "/device.crt", "-noout", "-serial"]
        )
        #expect(
            crl.contains(
                serial.replacingOccurrences(of: "serial=", with: "").trimmingCharacters(in: .whitespacesAndNewlines)
            )
        )
        // A revoked id can be provisioned again (a replacement board) with a new serial.
        try await factory.provision(
            "dev-0003",
            port: broker.port,
            extra: ["--out", folder.appendingPathComponent("dev-0003-new").path]
        )
    }

    /// A folder standing in for a board's root file system, with the pinpost user of the package.
    func boardRoot(_ name: String) throws -> URL {
        let root = try Repository.temporaryFolder(name)
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("etc"),
            withIntermediateDirectories: true
        )
        try "pinpost:x:4242:4243::/var/lib/pinpost:/usr/sbin/nologin\n".write(
            to: root.appendingPathComponent("etc/passwd"),
            atomically: true,
            encoding: .utf8
        )
        try "pinpost:x:4243:\n".write(to: root.appendingPathComponent("etc/group"), atomically: true, encoding: .utf8)
        return root
    }

    @Test func tamperedBundlesAreRejectedWithTheReasonAndChangeNothing() async throws {
        let folder = try Repository.temporaryFolder("factory-tamper")
        let factory = try await ProvisioningFactory(in: folder)
        let good = try await factory.provision("dev-0005", port: 8883)
        let other = try await factory.provision("dev-0006", port: 8883)

        func tampered(_ name: String, _ change: (String) async throws -> Void) async throws -> String {
            let copy = folder.appendingPathComponent("tampered-\(name)").path
            try FileManager.default.copyItem(atPath: good, toPath: copy)
            try await change(copy)
            return copy
        }
        func append(_ file: String, _ text: String) throws {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(text.utf8))
            try handle.close()
        }
        func replace(_ file: String, with source: String) throws {
            try FileManager.default.removeItem(atPath: file)
            try FileManager.default.copyItem(atPath: source, toPath: file)
        }
        let cases: [(bundle: String, reason: String)] = [
            (
                try await tampered("toml") {
                    try append($0 + "/pinpost.toml", "\n[broker]\nhost = \"evil.example\"\n")
                },
                "'pinpost.toml' does not match its SHA-256"
            ),
            (
                try await tampered("cert") { try replace($0 + "/device.crt", with: other + "/device.crt") },
                "'device.crt' does not match its SHA-256"
            ),
            (
                try await tampered("extra") {
                    try "x".write(toFile: $0 + "/authorized_keys", atomically: true, encoding: .utf8)
                }, "'authorized_keys' is in the bundle but not in the manifest"
            ),
            (
                try await tampered("manifest") { path in
                    // Rehash everything for another device's certificate and key: only the signature can tell.
                    try replace(path + "/device.crt", with: other + "/device.crt")
                    try replace(path + "/device.key", with: other + "/device.key")
                    let manifest = try String(contentsOfFile: path + "/manifest", encoding: .utf8)
                    var lines = manifest.split(separator: "\n").map(String.init)
                    for name in ["device.crt", "device.key"] {
                        let hash = try await Command.check("/usr/bin/sha256sum", [path + "/" + name]).split(
                            separator: " "
                        )[0]
                        lines = lines.map { $0.hasSuffix(" " + name) ? "sha256 \(hash) \(name)" : $0 }
                    }
                    try (lines.joined(separator: "\n") + "\n").write(
                        toFile: path + "/manifest",
                        atomically: true,
                        encoding: .utf8
                    )
                }, "manifest.sig is not the issuing CA's signature"
            ),
            (
                try await tampered("signature") { try replace($0 + "/manifest.sig", with: other + "/manifest.sig") },
                "manifest.sig is not the issuing CA's signature"
            ),
        ]
        let root = try boardRoot("board-tamper")
        for (bundle, reason) in cases {
            let result = try await ProvisioningFactory.install(
                [bundle, "--root", root.path, "--ca", factory.rootCertificate]
            )
            #expect(result.status == 65, "\(bundle): \(result.output)")
            #expect(result.output.contains(reason), "expected '\(reason)' in: \(result.output)")
            #expect(result.output.contains("nothing was changed"))
            #expect(
                !FileManager.default.fileExists(atPath: root.path + "/etc/pinpost"),
                "a rejected bundle must not create /etc/pinpost"
            )
        }
        // A bundle from a different factory (a self-made root) does not chain to the pinned root.
        let rogue = try await ProvisioningFactory(in: try Repository.temporaryFolder("rogue-factory"))
        let forged = try await rogue.provision("dev-0005", port: 8883)
        let rejected = try await ProvisioningFactory.install(
            [forged, "--root", root.path, "--ca", factory.rootCertificate]
        )
        #expect(
            rejected.status == 65 && rejected.output.contains("does not chain to the trust anchor"),
            "\(rejected.output)"
        )

        // The untouched bundle installs with the documented owners and modes.
        let installed = try await ProvisioningFactory.install(
            [good, "--root", root.path, "--ca", factory.rootCertificate]
        )
        #expect(installed.status == 0, "\(installed.output)")
        let expected: [(String, Int, UInt32, UInt32)] = [
            ("", 0o750, 0, 4243), ("/device.key", 0o600, 4242, 4243), ("/device.crt", 0o644, 0, 0),
            ("/ca.crt", 0o644, 0, 0), ("/pinpost.toml", 0o640, 0, 4243), ("/bundle.manifest", 0o644, 0, 0),
        ]
        for (suffix, mode, uid, gid) in expected {
            var info = stat()
            #expect(stat(root.path + "/etc/pinpost" + suffix, &info) == 0, "missing /etc/pinpost\(suffix)")
            #expect(
                Int(info.st_mode & 0o7777) == mode && info.st_uid == uid && info.st_gid == gid,
                "/etc/pinpost\(suffix): mode \(String(info.st_mode & 0o7777, radix: 8)) \(info.st_uid):\(info.st_gid)"
            )
        }
        // Another device's bundle does not silently replace an installed identity.
        let replaced = try await ProvisioningFactory.install(
            [other, "--root", root.path, "--ca", factory.rootCertificate]
        )
        #expect(
            replaced.status == 65 && replaced.output.contains("already holds the identity of device 'dev-0005'"),
            "\(replaced.output)"
        )
    }

    @Test func onDeviceFlowKeepsTheKeyOnTheDevice() async throws {
        let folder = try Repository.temporaryFolder("factory-csr")
        let factory = try await ProvisioningFactory(in: folder)
        let root = try boardRoot("board-csr")
        let csr = folder.appendingPathComponent("dev-0007.csr").path
        // Through the wrapper under the old name, as a board's scripts may still call it.
        try await Command.check(
            ProvisioningFactory.installWrapper,
            ["--make-csr", "dev-0007", "--out", csr, "--root", root.path]
        )
        let keyBefore = try Data(contentsOf: root.appendingPathComponent("etc/pinpost/device.key"))
        try await factory.provision("dev-0007", port: 8883, extra: ["--csr", csr])
        #expect(
            !FileManager.default.fileExists(atPath: factory.bundle("dev-0007") + "/device.key"),
            "the bundle carries no key"
        )
        let manifest = try String(contentsOfFile: factory.bundle("dev-0007") + "/manifest", encoding: .utf8)
        #expect(manifest.contains("flow=device"))
        let installed = try await ProvisioningFactory.install(
            [
                factory.bundle("dev-0007"), "--root", root.path, "--ca", factory.rootCertificate,
            ]
        )
        #expect(installed.status == 0, "\(installed.output)")
        #expect(try Data(contentsOf: root.appendingPathComponent("etc/pinpost/device.key")) == keyBefore)
        // A bundle for a key this device does not hold is refused.
        let otherRoot = try boardRoot("board-csr-other")
        #expect(
            try await ProvisioningFactory.install(
                [
                    "--make-csr", "dev-0007", "--out", folder.appendingPathComponent("x.csr").path, "--root",
                    otherRoot.path,
                ]
            ).status == 0
        )
        let mismatch = try await ProvisioningFactory.install(
            [
                factory.bundle("dev-0007"), "--root", otherRoot.path, "--ca", factory.rootCertificate,
            ]
        )
        #expect(
            mismatch.status == 65 && mismatch.output.contains("does not belong to device.crt"),
            "\(mismatch.output)"
        )
    }

    @Test func decommissionErasesKeyAndSpoolAndRemovesTheConfig() async throws {
        let folder = try Repository.temporaryFolder("factory-decommission")
        let factory = try await ProvisioningFactory(in: folder)
        let root = try boardRoot("board-decommission")
        let spool = root.appendingPathComponent("var/lib/pinpost").path
        try FileManager.default.createDirectory(atPath: spool, withIntermediateDirectories: true)
        try "42\n".write(toFile: spool + "/seq", atomically: true, encoding: .utf8)
        let bundle = try await factory.provision("dev-0008", port: 8883, extra: ["--spool-dir", spool])
        #expect(
            try await ProvisioningFactory.install([bundle, "--root", root.path, "--ca", factory.rootCertificate]).status
                == 0
        )
        let config = root.path + "/etc/pinpost/pinpost.toml"

        let dryRun = try await Command.run(try Repository.agentBinary, ["decommission", "--config", config])
        #expect(dryRun.status == 78 && dryRun.output.contains("--yes"), "\(dryRun.output)")
        #expect(FileManager.default.fileExists(atPath: root.path + "/etc/pinpost/device.key"))

        let result = try await Command.run(try Repository.agentBinary, ["decommission", "--config", config, "--yes"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("erased \(root.path)/etc/pinpost/device.key"))
        #expect(result.output.contains("wear levelling"))
        #expect(!FileManager.default.fileExists(atPath: root.path + "/etc/pinpost/device.key"))
        #expect(!FileManager.default.fileExists(atPath: config))
        #expect(try FileManager.default.contentsOfDirectory(atPath: spool).isEmpty)
        #expect(FileManager.default.fileExists(atPath: root.path + "/etc/pinpost/device.crt"), "public parts stay")
    }

    @Test func aProductionBundleNamesItsSensorsOrIsRefused() async throws {
        let folder = try Repository.temporaryFolder("factory-sensors")
        let factory = try await ProvisioningFactory(in: folder)
        let base = [factory.factory, "--id", "dev-0009", "--broker-host", "mqtt.example.net"]

        // Without sensors the board would start, connect and publish nothing: refused, nothing issued.
        let bare = try await ProvisioningFactory.device(base)
        #expect(bare.status == 2, "\(bare.output)")
        #expect(bare.output.contains("publishes nothing real") && bare.output.contains("no bundle was made"))
        // Simulated waveforms are for the simulated backend, which is never a default.
        let waveforms = try await ProvisioningFactory.device(
            base + ["--sensors", Repository.root.path + "/board/dev/demo-sensors.toml"]
        )
        #expect(waveforms.status == 2 && waveforms.output.contains("--gpio-backend simulated"), "\(waveforms.output)")
        let registry = try String(contentsOfFile: factory.registry, encoding: .utf8)
        #expect(!registry.contains("dev-0009"), "a refused bundle costs no certificate")
        #expect(!FileManager.default.fileExists(atPath: factory.bundle("dev-0009")))

        // A board profile: libgpiod and the board's sensors, as the agent loads them once installed.
        let made = try await ProvisioningFactory.device(base + ["--profile", "raspberry-pi-4"])
        #expect(made.status == 0, "\(made.output)")
        let root = try boardRoot("board-profile")
        let installed = try await ProvisioningFactory.install(
            [factory.bundle("dev-0009"), "--root", root.path, "--ca", factory.rootCertificate]
        )
        #expect(installed.status == 0, "\(installed.output)")
        let configuration = try ConfigLoader.load(path: root.path + "/etc/pinpost/pinpost.toml")
        let profile = try ConfigLoader.load(path: Repository.root.path + "/board/profiles/raspberry-pi-4.toml")
        #expect(configuration.backend == .libgpiod)
        #expect(configuration.sensors == profile.sensors && !configuration.sensors.isEmpty)
        #expect(
            configuration.device.id == "dev-0009" && configuration.tls.keyFile == root.path + "/etc/pinpost/device.key"
        )
    }

    /// `openssl ca` replaces `serial` by two renames, so a run that checked the CA database before taking the CA
    /// lock could find it missing ("missing serial"). Here the lock is held with `serial` moved away, exactly that
    /// moment made to last, while another run issues: it must wait for the lock and then succeed.
    @Test func issuingWaitsForTheCADatabaseUnderTheLock() async throws {
        let folder = try Repository.temporaryFolder("pki-lock")
        let script = """
            set -euo pipefail
            pki="$1" dir="$2"
            "$pki" ca "$dir/ca" >/dev/null
            exec 9>>"$dir/ca/.lock"
            flock 9
            mv "$dir/ca/serial" "$dir/ca/serial.rotating"
            "$pki" device "$dir/ca" "$dir/dev" --id dev-0001 9>&- &
            issuing=$!
            # Until the issuing run waits for the lock (its flock child) or has given up; bounded at 60 s.
            for ((i = 0; i < 1200; i++)); do
                pgrep -x -P "$issuing" flock >/dev/null && break
                kill -0 "$issuing" 2>/dev/null || break
                sleep 0.05
            done
            mv "$dir/ca/serial.rotating" "$dir/ca/serial"
            exec 9>&-
            wait "$issuing"
            """
        let result = try await Command.run("/bin/bash", ["-c", script, "pki-lock", Repository.pki, folder.path])
        #expect(result.status == 0, "\(result.output)")
        #expect(FileManager.default.fileExists(atPath: folder.path + "/dev/device.crt"), "\(result.output)")
    }

    @Test func awsIoTPolicyBindsClientIDToThingNameAndScopesTopics() async throws {
        let text = try await Command.check(
            Repository.root.appendingPathComponent("provisioning/aws-iot-policy").path,
            ["--region", "eu-central-1", "--account", "123456789012"]
        )
        let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let statements = try #require(json["Statement"] as? [[String: Any]])
        func resource(_ action: String) -> String? {
            statements.first { $0["Action"] as? String == action }?["Resource"] as? String
        }
        let thing = "${iot:Connection.Thing.ThingName}"
        #expect(resource("iot:Connect") == "arn:aws:iot:eu-central-1:123456789012:client/\(thing)")
        #expect(resource("iot:Publish") == "arn:aws:iot:eu-central-1:123456789012:topic/devices/\(thing)/*")
        #expect(
            resource("iot:Subscribe") == "arn:aws:iot:eu-central-1:123456789012:topicfilter/devices/\(thing)/commands/*"
        )
        #expect(resource("iot:Receive") == "arn:aws:iot:eu-central-1:123456789012:topic/devices/\(thing)/commands/*")
        #expect(statements.allSatisfy { $0["Effect"] as? String == "Allow" } && statements.count == 4)
    }
}
