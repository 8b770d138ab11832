import ArgumentParser
import DurableSpool
import PinpostAgent

/// `pinpost decommission`: the device leaves service and must not be able to speak as itself again.
/// Revocation at the factory (`pinpost-factory revoke`) stops the broker accepting the identity;
/// this erases the secret half on the device itself.
struct Decommission: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decommission",
        abstract:
            "Securely erase the device key and the spool, then remove the config so the service no longer starts.",
        discussion: """
            Stop the service first (systemctl stop pinpost). Each file is overwritten with random bytes, \
            fsynced, truncated and unlinked. On flash storage (eMMC, SD, SSD) wear levelling may keep old \
            blocks the file system cannot reach, and snapshots or backups keep their copies: this is not a \
            guarantee there. Revoke the certificate at the factory as well (pinpost-factory revoke). \
            Exit codes: 0 erased, 1 an erase failed (the message names the file; re-run), 78 config or usage.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Flag(help: "Really erase (without it, only say what would be erased).")
    var yes = false

    func run() throws {
        let configuration = try options.load()
        let key = configuration.tls.keyFile
        let spool = configuration.spool.directory
        guard yes else {
            FileOutput.standardError(
                "pinpost: decommission would erase the key '\(key)', everything in '\(spool)' and remove '\(configuration.file)'; pass --yes to do it"
            )
            throw ExitCode(78)
        }
        do {
            let bytes = try SecureErase.eraseFile(key)
            FileOutput.standardOutput("erased \(key) (\(bytes) bytes overwritten, fsynced, unlinked)")
            for path in try SecureErase.eraseContents(of: spool) {
                FileOutput.standardOutput("erased \(path)")
            }
            try SecureErase.eraseFile(configuration.file)
            FileOutput.standardOutput(
                "removed \(configuration.file): pinpost.service will not start until a new bundle is installed"
            )
            FileOutput.standardOutput(
                "note: on flash storage, wear levelling may keep old copies of erased blocks; revoke this device's certificate at the factory too"
            )
        } catch {
            FileOutput.standardError("pinpost: decommission: \(error); fix the cause and run it again")
            throw ExitCode(1)
        }
    }
}
