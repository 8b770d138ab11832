#if canImport(Glibc)
internal import Glibc
#endif

/// Which boot of the machine this process runs in: two processes with the same identity share the
/// kernel's page cache, so what one wrote without fsync the other can still read.
///
/// The kernel's `/proc/sys/kernel/random/boot_id`, or, where a sandbox hides `/proc/sys` (systemd's
/// `ProcSubset=pid`), a random id kept in `$RUNTIME_DIRECTORY` (a tmpfs under `/run` that lives exactly as
/// long as the boot when the unit sets `RuntimeDirectoryPreserve=yes`). nil when neither is available.
public enum BootIdentity {
    public static func current() -> String? {
        let runtimeDirectory = getenv("RUNTIME_DIRECTORY").map { String(cString: $0) }
        return current(bootIDFile: "/proc/sys/kernel/random/boot_id", runtimeDirectory: runtimeDirectory)
    }

    static func current(bootIDFile: String, runtimeDirectory: String?) -> String? {
        if let bytes = try? FileSystem.readFile(bootIDFile, limit: 4096) {
            let id = String(decoding: bytes, as: UTF8.self).filter { !$0.isWhitespace }
            if !id.isEmpty { return id }
        }
        // RUNTIME_DIRECTORY may list several folders separated by ':'; the first is the unit's own.
        guard let folder = runtimeDirectory?.split(separator: ":").first.map(String.init), !folder.isEmpty else {
            return nil
        }
        let marker = folder + "/boot-id"
        if let bytes = try? FileSystem.readFile(marker, limit: 4096) {
            let id = String(decoding: bytes, as: UTF8.self).filter { !$0.isWhitespace }
            if !id.isEmpty { return id }
        }
        let id = (0..<4).map { _ in String(UInt32.random(in: .min ... .max), radix: 16) }.joined(separator: "-")
        guard (try? FileSystem.writeFileAtomically(marker, Array((id + "\n").utf8))) != nil else { return nil }
        return id
    }
}
