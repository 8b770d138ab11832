import Foundation

/// Real bundles for the installer's tests, made by the shipped tools: an offline root
/// (`pinpost-pki ca`), a factory (`pinpost-factory init`) and its devices (`pinpost-factory device`).
struct BundleFixture {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    let folder: String
    var root: String { folder + "/root" }
    var factory: String { folder + "/factory" }
    var rootCertificate: String { root + "/ca.crt" }
    var factoryKey: String { factory + "/ca/ca.key" }

    init(_ name: String) throws {
        folder = try Self.temporaryFolder(name)
        try Self.run(Self.tool("pinpost-pki"), ["ca", root, "--cn", "Test Offline Root"])
        try Self.run(Self.tool("pinpost-factory"), ["init", factory, "--root", root, "--cn", "Test Factory"])
    }

    /// A station-flow bundle (simulated sensors, asked for explicitly); `extra` adds factory options.
    func bundle(_ id: String, extra: [String] = []) throws -> String {
        let out = folder + "/bundles/" + id
        try Self.run(
            "/usr/bin/env",
            [
                "PINPOST_BIN=\(try Self.agentBinary)", Self.tool("pinpost-factory"), "device", factory, "--id", id,
                "--broker-host", "localhost", "--gpio-backend", "simulated", "--sensors",
                Self.repository.path + "/board/dev/demo-sensors.toml", "--out", out,
            ] + extra
        )
        return out
    }

    /// A copy of `bundle` to tamper with.
    func copy(_ bundle: String, as name: String) throws -> String {
        let copy = folder + "/tampered-" + name + "-" + UUID().uuidString.prefix(6)
        try FileManager.default.copyItem(atPath: bundle, toPath: copy)
        return copy
    }

    /// Rewrites the manifest (through `change`), rehashes the files it lists and signs it again with the
    /// factory CA's key: a bundle the factory itself vouches for, so only the later checks can refuse it.
    func resign(_ bundle: String, change: (String) -> String = { $0 }) throws {
        var lines = change(try String(contentsOfFile: bundle + "/manifest", encoding: .utf8))
            .split(separator: "\n").map(String.init)
        for (index, line) in lines.enumerated() where line.hasPrefix("sha256 ") {
            let name = String(line.split(separator: " ")[2])
            let hash = try Self.run("/usr/bin/sha256sum", [bundle + "/" + name]).split(separator: " ")[0]
            lines[index] = "sha256 \(hash) \(name)"
        }
        try (lines.joined(separator: "\n") + "\n").write(
            toFile: bundle + "/manifest",
            atomically: true,
            encoding: .utf8
        )
        try Self.run(
            "/usr/bin/openssl",
            ["dgst", "-sha256", "-sign", factoryKey, "-out", bundle + "/manifest.sig", bundle + "/manifest"]
        )
    }

    /// A folder standing in for a board's root, with the package's user and group.
    func board(_ name: String) throws -> String {
        let board = folder + "/board-" + name
        try FileManager.default.createDirectory(atPath: board + "/etc", withIntermediateDirectories: true)
        try "pinpost:x:4242:4243::/var/lib/pinpost:/usr/sbin/nologin\n".write(
            toFile: board + "/etc/passwd",
            atomically: true,
            encoding: .utf8
        )
        try "pinpost:x:4243:\n".write(toFile: board + "/etc/group", atomically: true, encoding: .utf8)
        return board
    }

    static func tool(_ name: String) -> String { repository.path + "/provisioning/" + name }

    /// The pinpost binary (it writes each bundle's config): next to this test bundle, else the checkout's build.
    static var agentBinary: String {
        get throws {
            let here = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent()
            for candidate in [
                here.appendingPathComponent("pinpost").path,
                here.deletingLastPathComponent().appendingPathComponent("pinpost").path,
                repository.path + "/.build/debug/pinpost",
            ] where FileManager.default.isExecutableFile(atPath: candidate) {
                return candidate
            }
            throw FixtureError(
                "the pinpost binary was not found; run `swift build` before `swift test` (make test does)"
            )
        }
    }

    static func temporaryFolder(_ name: String) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "pinpost-\(name)-\(UUID().uuidString.prefix(8))"
        ).path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    /// Runs a tool to completion (they are short: openssl, the factory scripts) and returns its output.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw FixtureError(
                "\(executable) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(text)"
            )
        }
        return text
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
