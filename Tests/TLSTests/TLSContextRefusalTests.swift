import Foundation
import TLS
import Testing

/// Configuration mistakes are refused when the context is built, naming the key and the fix.
@Suite("TLS context refusals")
struct TLSContextRefusalTests {
    func configuration(
        caFile: String? = nil,
        caDirectory: String? = nil,
        revocation: RevocationMode? = nil
    ) -> TLSConfiguration {
        TLSConfiguration(
            caFile: caFile,
            caDirectory: caDirectory,
            certificateChainFile: "/nonexistent/device.crt",
            privateKey: .file("/nonexistent/device.key"),
            revocation: revocation,
            serverName: "localhost"
        )
    }

    @Test func noTrustAnchorIsRefused() {
        #expect {
            try TLSContext(configuration: configuration())
        } throws: { error in
            "\(error)".contains("neither tls.ca_file nor tls.ca_dir is set")
        }
    }

    @Test func aFolderWithoutHashLinksIsRefused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "pinpost-cadir-\(UUID().uuidString.prefix(8))"
        )
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect {
            try TLSContext(configuration: configuration(caDirectory: folder.path))
        } throws: { error in
            "\(error)".contains("tls.ca_dir '\(folder.path)': no hashed certificate links")
                && "\(error)".contains("openssl rehash")
        }
    }

    @Test func aCRLFileTurnsOnWholeChainChecking() {
        #expect(configuration(revocation: nil).revocation == .off)
        let withCRL = TLSConfiguration(
            caFile: "/x",
            certificateChainFile: "/y",
            privateKey: .file("/z"),
            crlFile: "/c.crl",
            serverName: "h"
        )
        #expect(withCRL.revocation == .chain)
    }
}
