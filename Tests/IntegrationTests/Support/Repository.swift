import Foundation

/// Paths of the repository and the built agent, found from this file's location.
enum Repository {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // IntegrationTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    static var pki: String { root.appendingPathComponent("provisioning/pinpost-pki").path }
    static var mosquittoConf: String { root.appendingPathComponent("provisioning/mosquitto-conf").path }

    /// The `pinpost` binary next to the test bundle (`swift build` puts both in the same folder).
    static var agentBinary: String {
        get throws {
            let testBinary = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0])
            var candidates = [testBinary.deletingLastPathComponent().appendingPathComponent("pinpost").path]
            // The .xctest bundle may be a directory on some platforms.
            candidates.append(
                testBinary.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("pinpost")
                    .path
            )
            candidates.append(root.appendingPathComponent(".build/debug/pinpost").path)
            for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
                return candidate
            }
            throw HarnessError(
                "the pinpost binary was not found (looked in \(candidates)); run `swift build` before `swift test` (make test does)"
            )
        }
    }

    static func temporaryFolder(_ name: String) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "pinpost-\(name)-\(UUID().uuidString.prefix(8))"
        )
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
