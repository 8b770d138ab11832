import ArgumentParser
import BundleInstall
import PinpostAgent
import SystemExtras

/// `pinpost install-bundle`: runs as root on the board. The bundle is checked with the agent's own
/// code (the chain and key through its TLS module, the config through its loader) before anything is
/// written; `/usr/sbin/pinpost-install-bundle` is a thin wrapper for scripts that call it by that name.
struct InstallBundle: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install-bundle",
        abstract: "Check a factory bundle and install it into /etc/pinpost (or make the on-device key and request).",
        usage: """
            pinpost install-bundle BUNDLE_DIR [--root DIR] [--ca FILE] [--replace] [--owner USER] [--group GROUP]
            pinpost install-bundle --make-csr DEVICE_ID --out FILE [--root DIR] [--owner USER] [--group GROUP]
            """,
        discussion: """
            Checked before anything is written: the manifest and its signature by the CA that issued the \
            certificate; the SHA-256 of every listed file and that nothing unlisted is present; the chain to the \
            trust anchor with clientAuth (--ca; without it the bundle's own ca.crt, which proves consistency but \
            not origin: pass the factory root built into your image); the certificate's CN, serial and \
            fingerprint against the manifest; pinpost.toml through the agent's config loader and identity rule, \
            with device.id the manifest's; that the key belongs to the certificate (station flow: the bundle's; \
            on-device flow: DIR/etc/pinpost/device.key made by --make-csr); and that another device's installed \
            identity is only replaced with --replace. Then each file is staged in DIR/etc/pinpost/.install.*, \
            synced and renamed into place, pinpost.toml last: /etc/pinpost 0750 root:GROUP, device.key 0600 \
            USER:GROUP, device.crt, ca.crt, bundle.manifest 0644 root:root, pinpost.toml 0640 root:GROUP. USER \
            and GROUP (default pinpost) are looked up in DIR/etc/passwd and DIR/etc/group; numbers work too.

            --make-csr DEVICE_ID --out FILE is the on-device flow: it creates DIR/etc/pinpost/device.key (EC P-256, \
            0600 USER:GROUP; an existing key is reused) and writes a certificate request for DEVICE_ID to FILE. \
            Take FILE (never the key) to the factory: pinpost-factory device FACTORY --id DEVICE_ID --csr FILE ...

            Exit codes: 0 installed, 1 failure (e.g. disk, missing user), 2 usage, 65 (EX_DATAERR) the bundle \
            failed a check: the reason is printed and nothing was changed.
            """
    )

    @Argument(help: "The bundle folder made by pinpost-factory device.")
    var bundle: String?

    @Option(help: "Install below this root (an image being built, tests).")
    var root: String = "/"

    @Option(help: "Trust anchor (PEM) the device certificate must chain to: the factory root.")
    var ca: String?

    @Flag(help: "Replace an installed identity of another device.")
    var replace = false

    @Option(help: "Owner of device.key (name in DIR/etc/passwd, or a number).")
    var owner: String = "pinpost"

    @Option(help: "The agent's group (name in DIR/etc/group, or a number).")
    var group: String = "pinpost"

    @Option(name: .customLong("make-csr"), help: "On-device flow: make the key here and a request for this id.")
    var makeCSR: String?

    @Option(help: "With --make-csr: where to write the certificate request.")
    var out: String?

    func validate() throws {
        if makeCSR != nil {
            guard bundle == nil else { throw ValidationError("--make-csr takes no BUNDLE_DIR") }
            guard out != nil else { throw ValidationError("--make-csr needs --out FILE for the certificate request") }
            guard ca == nil, !replace else { throw ValidationError("--ca and --replace are for installing a bundle") }
        } else {
            guard bundle != nil else {
                throw ValidationError("pass BUNDLE_DIR (a folder made by pinpost-factory device)")
            }
            guard out == nil else { throw ValidationError("--out is for --make-csr") }
        }
        guard FileSystem.entryKind(root + "/.") == .directory else {
            throw ValidationError("--root '\(root)' is not a folder")
        }
    }

    func run() throws {
        let name = "pinpost install-bundle"
        do {
            if let makeCSR, let out {
                try makeRequest(deviceID: makeCSR, out: out, name: name)
            } else if let bundle {
                try install(bundle, name: name)
            }
        } catch let error as BundleInstallError {
            switch error.disposition {
            case .rejected:
                FileOutput.standardError("\(name): bundle rejected: \(error.reason)")
                FileOutput.standardError("\(name): nothing was changed")
            case .usage:
                FileOutput.standardError("\(name): error: \(error.reason)")
                FileOutput.standardError("run '\(name) --help' for the usage")
            case .failure:
                FileOutput.standardError("\(name): error: \(error.reason)")
            }
            throw ExitCode(error.exitCode)
        }
    }

    private func install(_ bundle: String, name: String) throws {
        let verifier = BundleVerifier(bundle: bundle, root: root, trustAnchor: ca, replace: replace)
        let verified = try verifier.verify()
        let accounts = try SystemAccounts(user: owner, group: group, root: root)
        try BundleInstaller(destination: verifier.destination, accounts: accounts).install(verified)
        let manifest = verified.manifest
        FileOutput.standardOutput(
            "\(name): installed device \(manifest.deviceID) (serial \(manifest.serial), \(manifest.flow.rawValue) flow) into \(verifier.destination)"
        )
        FileOutput.standardOutput("\(name): start the agent with: systemctl restart pinpost (or reboot)")
    }

    private func makeRequest(deviceID: String, out: String, name: String) throws {
        let accounts = try SystemAccounts(user: owner, group: group, root: root)
        let destination = FileSystem.absolute("etc/pinpost", relativeTo: root)
        let outcome = try DeviceKeyEnrollment.enroll(
            deviceID: deviceID,
            destination: destination,
            accounts: accounts,
            requestFile: out
        )
        if outcome.reused { FileOutput.standardError("\(name): reusing the existing key \(outcome.keyFile)") }
        FileOutput.standardOutput("\(name): key \(outcome.keyFile) stays here; take \(out) to the factory")
    }
}

extension Pinpost {
    /// Usage errors exit 78 (EX_CONFIG) like config errors, except for `install-bundle`, which keeps the
    /// installer's documented 2 (scripts that called the shell installer rely on it).
    static func usageExitCode(arguments: [String] = CommandLine.arguments) -> Int32 {
        arguments.dropFirst().first == InstallBundle.configuration.commandName ? 2 : 78
    }
}
