import DurableSpool
import Foundation
import ReadingProof
import TLS
import Testing

/// A throwaway CA, device certificates signed by it and an operator key, made with the `openssl` command in a fresh
/// folder (removed with the value); and readings sealed as the agent seals them, as capture lines.
final class ProofFixture {
    let folder: URL
    var caCertificate: String { file("ca.crt") }
    var operatorKey: String { file("operator.key") }

    func file(_ name: String) -> String { folder.appendingPathComponent(name).path }

    init(devices: [String] = ["dev-0001", "dev-0002"]) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("pinpost-proof-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Self.openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", file("ca.key"),
            "-out", caCertificate, "-subj", "/CN=Proof Test CA", "-days", "2",
            "-addext", "basicConstraints=critical,CA:true", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
        for device in devices {
            try Self.openssl([
                "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", file("\(device).key"), "-out", file("\(device).csr"), "-subj", "/CN=\(device)",
            ])
            try Self.openssl([
                "x509", "-req", "-in", file("\(device).csr"), "-CA", caCertificate, "-CAkey", file("ca.key"),
                "-CAcreateserial", "-out", file("\(device).crt"), "-days", "2",
                "-extfile", try extensions(), "-extensions", "device",
            ])
        }
        try Self.openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", operatorKey])
        try Self.openssl(["pkey", "-in", operatorKey, "-pubout", "-out", file("operator.pub")])
    }

    deinit {
        try? FileManager.default.removeItem(at: folder)
    }

    private func extensions() throws -> String {
        let path = file("device.ext")
        try "[device]\nextendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n".write(
            toFile: path,
            atomically: true,
            encoding: .utf8
        )
        return path
    }

    func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: folder.appendingPathComponent(name)))
    }

    func certificate(_ device: String) throws -> X509Certificate {
        try #require(X509Certificate.certificates(pem: bytes("\(device).crt")).first)
    }

    func sealer(
        _ device: String,
        envelope: ReadingSealer.Envelope = .userProperty,
        signEvery: Int = 1,
        encrypted: Bool = false,
        stream: String = "00000000000000a1",
        resumingAfter newest: SpoolRecord? = nil
    ) throws -> ReadingSealer {
        let key = try #require(DevicePrivateKey(pem: bytes("\(device).key")))
        let recipient = encrypted ? ECPublicKey(pem: try bytes("operator.pub")) : nil
        return try ReadingSealer(
            key: key,
            certificate: certificate(device),
            settings: .init(envelope: envelope, signEvery: signEvery, signIntervalMilliseconds: 1_000_000),
            encryptTo: recipient,
            stream: stream,
            resumingAfter: newest
        )
    }

    /// The announcement line of `device`.
    func announcement(_ device: String) throws -> String {
        let payload = CertificateAnnouncement.payload(chain: [try certificate(device)])
        return "devices/\(device)/certificate " + String(decoding: payload, as: UTF8.self)
    }

    /// Readings `seqs` of `device` on sensor `door`, sealed with `sealer`, as capture lines (and their records).
    func readings(
        _ device: String,
        seqs: some Sequence<UInt64>,
        sealer: ReadingSealer,
        stream: String = "00000000000000a1"
    ) -> (lines: [String], records: [SpoolRecord]) {
        var lines: [String] = []
        var records: [SpoolRecord] = []
        let topic = "devices/\(device)/sensors/door"
        for seq in seqs {
            let json =
                #"{"sensor":"door","value":\#(seq % 2),"ts":"2026-12-06T01:02:03.\#(100 + seq % 900)Z","stream":"\#(stream)","seq":\#(seq)}"#
            let content = sealer.seal(
                topic: topic,
                payload: Array(json.utf8),
                seq: seq,
                takenAtMilliseconds: Int64(seq)
            )
            let signature = content.attributes.first { $0.name == ReadingSealer.propertyName }?.value
            lines.append(CapturedMessage(topic: topic, signature: signature, payload: content.payload).line)
            records.append(
                SpoolRecord(
                    seq: seq,
                    takenAtMilliseconds: Int64(seq),
                    qos: 1,
                    topic: topic,
                    payload: content.payload,
                    attributes: content.attributes,
                    note: content.note
                )
            )
        }
        return (lines, records)
    }

    func verify(
        _ lines: [String],
        crl: String? = nil,
        window: UInt64 = 20,
        decrypt: Bool = false
    ) throws
        -> ReadingVerifier.Report
    {
        let anchors = X509Certificate.certificates(pem: try bytes("ca.crt"))
        let key = decrypt ? DevicePrivateKey(pem: try bytes("operator.key")) : nil
        let verifier = ReadingVerifier(
            options: .init(anchors: anchors, crlFile: crl, operatorKey: key, resendWindow: window)
        )
        for line in lines { verifier.add(line: Substring(line)) }
        return verifier.finish()
    }

    private static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw FixtureError("openssl \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
        }
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension ReadingVerifier.Report {
    func kinds(_ device: String = "dev-0001") -> [ProofFinding.Kind] {
        findings.filter { $0.device == device }.map(\.kind)
    }
}
