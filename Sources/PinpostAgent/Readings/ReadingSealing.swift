public import DurableSpool
internal import MQTT
public import Publisher
public import ReadingProof
internal import SystemExtras
internal import TLS

/// `[signing]` put to work: the sealer the recorder signs with, and the retained certificate message that lets a
/// verifier find the device's key in the same subscription.
public struct ReadingSealing: Sendable {
    public let sealer: ReadingSealer
    /// `devices/<id>/certificate`, retained, QoS 1: the device certificate chain (`CertificateAnnouncement`).
    public let announcement: OutboundMessage

    /// nil when signing is off. Loads the device key the way the TLS context does (file, `pkcs11:`, `handle:`):
    /// a key in hardware signs readings where it lives.
    public static func make(
        _ configuration: AgentConfiguration,
        spool: Spool
    ) throws(AgentStartupError) -> ReadingSealing? {
        let signing = configuration.signing
        guard signing.enabled else { return nil }
        let file = configuration.file
        let chain = X509Certificate.certificates(pem: (try? FileSystem.readFile(configuration.tls.certFile)) ?? [])
        guard let leaf = chain.first else {
            throw AgentStartupError(
                exitCode: .config,
                message:
                    "\(file): tls.cert_file: no PEM certificate in \(configuration.tls.certFile); fix: point it at the device certificate"
            )
        }
        let key = try loadKey(configuration)
        var recipient: ECPublicKey?
        if let path = signing.encryptTo {
            let bytes: [UInt8]
            do {
                bytes = try FileSystem.readFile(path)
            } catch {
                throw AgentStartupError(
                    exitCode: .config,
                    message: "\(file): signing.encrypt_to: \(error); fix: point it at the operator's PEM public key"
                )
            }
            guard let operatorKey = ECPublicKey(pem: bytes) else {
                throw AgentStartupError(
                    exitCode: .config,
                    message:
                        "\(file): signing.encrypt_to: \(path) holds no EC P-256 public key or certificate; fix: export the operator's key with `openssl pkey -pubout`"
                )
            }
            recipient = operatorKey
        }
        let envelope: ReadingSealer.Envelope = configuration.broker.protocolVersion == .v5 ? .userProperty : .payload
        let interval = signing.signInterval.components
        let sealer: ReadingSealer
        do {
            sealer = try ReadingSealer(
                key: key,
                certificate: leaf,
                settings: .init(
                    envelope: envelope,
                    signEvery: signing.signEvery,
                    signIntervalMilliseconds: interval.seconds * 1000 + interval.attoseconds / 1_000_000_000_000_000
                ),
                encryptTo: recipient,
                stream: spool.stream,
                resumingAfter: spool.newestRecordAtOpen
            )
        } catch {
            throw AgentStartupError(
                exitCode: .config,
                message:
                    "\(file): signing.enabled: \(error); fix: give the device an EC P-256 key (what provisioning/pinpost-pki makes), or set signing.enabled = false"
            )
        }
        let announcement = OutboundMessage(
            topic: Topics(deviceID: configuration.device.id).certificate,
            payload: CertificateAnnouncement.payload(chain: chain),
            qos: .atLeastOnce,
            retain: true
        )
        return ReadingSealing(sealer: sealer, announcement: announcement)
    }

    private static func loadKey(_ configuration: AgentConfiguration) throws(AgentStartupError) -> DevicePrivateKey {
        let pin = try configuration.tls.pinFile.map { path throws(AgentStartupError) in
            try KeyFilePolicy.readSecret(path, field: "tls.pin_file")
        }
        let source = configuration.tls.privateKeySource(pin: pin)
        if let path = source.filePath {
            guard let bytes = try? FileSystem.readFile(path), let key = DevicePrivateKey(pem: bytes) else {
                throw AgentStartupError(
                    exitCode: .config,
                    message:
                        "\(configuration.file): tls.key_file: \(path) is not an unencrypted PEM private key; fix: point it at the device key"
                )
            }
            return key
        }
        do {
            return try DevicePrivateKey.hardware(source)
        } catch {
            throw AgentStartupError(
                exitCode: .config,
                message: "\(configuration.file): tls.key_file: \(error); fix: check the token or TPM and tls.pin_file"
            )
        }
    }
}

extension Topics {
    /// Retained: the device certificate chain, for verifiers of signed readings.
    public var certificate: String { "devices/\(deviceID)/certificate" }
}
