import ArgumentParser
import PinpostAgent
import ReadingProof
import SystemExtras
internal import SystemPackage
import TLS

/// `pinpost verify`: what a consumer runs to know the readings it got are the ones the devices signed.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract:
            "Check captured readings against the device certificates and the factory CA; name every one that is not as signed.",
        discussion: """
            Reads `mosquitto_sub` lines (a file, or - for standard input): `mosquitto_sub -v -t 'devices/#'` for \
            MQTT 3.1.1 and encrypted readings, `mosquitto_sub -V 5 -F '%t %P %p' -t 'devices/#'` for MQTT 5 \
            (the signature is the user property sig). Device certificates come from the devices' retained \
            devices/<id>/certificate messages in the same input, or from --cert. Prints one line per finding \
            (modified, forged, revoked, replayed, missing, reordered, unproven, malformed; duplicate copies within \
            the resend window are named but allowed), then one summary line per device. Exit codes: 0 every \
            reading verified, 1 at least one finding (or no reading at all), 78 usage or an unreadable file.
            """
    )

    @Option(help: "PEM trust anchors for device certificates (the factory CA).", completion: .file())
    var ca: String

    @Option(help: "PEM CRLs: readings signed with a revoked certificate are reported as revoked.", completion: .file())
    var crl: String?

    @Option(
        name: .customLong("cert"),
        help: "A device certificate chain (PEM, leaf first) known out of band; repeatable."
    )
    var certificates: [String] = []

    @Option(help: "The operator's private key (PEM), to verify encrypted readings.", completion: .file())
    var operatorKey: String?

    @Option(help: "A copy of a reading at most this many seqs behind the newest is a duplicate, not a replay.")
    var resendWindow: Int = 20

    @Flag(help: "Unsigned readings after a stream's last signature (chain-head mode) are not a failure.")
    var allowUnprovenTail = false

    @Argument(help: "The capture to check; - reads standard input.")
    var input: String = "-"

    func run() throws {
        let anchors = X509Certificate.certificates(pem: try read(ca, what: "--ca"))
        guard !anchors.isEmpty else {
            throw usage("--ca \(ca): no PEM certificate in it; pass the factory CA certificate")
        }
        if let crl {
            _ = try read(crl, what: "--crl")
        }
        var chains: [[X509Certificate]] = []
        for path in certificates {
            let chain = X509Certificate.certificates(pem: try read(path, what: "--cert"))
            guard !chain.isEmpty else { throw usage("--cert \(path): no PEM certificate in it") }
            chains.append(chain)
        }
        var key: DevicePrivateKey?
        if let operatorKey {
            key = DevicePrivateKey(pem: try read(operatorKey, what: "--operator-key"))
            guard key?.isP256 == true else {
                throw usage("--operator-key \(operatorKey): not an unencrypted PEM EC P-256 private key")
            }
        }
        guard resendWindow >= 0 else { throw usage("--resend-window must be 0 or more") }
        let bytes = try read(input, what: "the capture")
        let verifier = ReadingVerifier(
            options: .init(
                anchors: anchors,
                crlFile: crl,
                certificates: chains,
                operatorKey: key,
                resendWindow: UInt64(resendWindow),
                allowUnprovenTail: allowUnprovenTail
            )
        )
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            verifier.add(line: line)
        }
        let report = verifier.finish()
        for finding in report.findings {
            FileOutput.standardOutput(finding.description)
        }
        for line in report.summary {
            FileOutput.standardOutput(line)
        }
        if report.verified.isEmpty {
            FileOutput.standardOutput("no readings in the input (for MQTT 5 capture with -F '%t %P %p')")
        }
        if !report.allVerified {
            throw ExitCode(1)
        }
    }

    private func read(_ path: String, what: String) throws -> [UInt8] {
        do {
            if path == "-" {
                return try FileDescriptor.standardInput.readToEnd(limit: 1 << 30)
            }
            return try FileSystem.readFile(path, limit: 1 << 30)
        } catch {
            throw usage("\(what) \(path): \(error)")
        }
    }

    private func usage(_ message: String) -> any Error {
        FileOutput.standardError("pinpost verify: \(message)")
        return ExitCode(78)
    }
}
