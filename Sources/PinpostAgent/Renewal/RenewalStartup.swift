internal import Logging
internal import MQTT
internal import ServiceLifecycle
internal import Synchronization
internal import SystemExtras
internal import SystemPackage
internal import TLS
internal import UnixSignals

/// What `Agent.run` starts with when `[renewal]` is configured: the identity store brought to a state the agent
/// can start from, the identity it names (the configured one, a renewed one, or one on trial), and for a board
/// that has no identity yet, the one it obtains with its claim certificate.
struct RenewalStartup {
    /// The configuration with `tls.cert_file` and `tls.key_file` of the identity to start with.
    var configuration: AgentConfiguration
    var loaded: AgentConfiguration
    var store: IdentityStore?
    var selection: IdentityStore.Selection

    /// nil: the agent was asked to stop while it waited for its identity by claim.
    static func prepare(_ loaded: AgentConfiguration, logger: Logger) async throws -> RenewalStartup? {
        guard let renewal = loaded.renewal else {
            return RenewalStartup(configuration: loaded, loaded: loaded, store: nil, selection: .configured)
        }
        let store = IdentityStore(directory: renewal.directory)
        do {
            try store.prepare()
        } catch {
            throw AgentStartupError(
                exitCode: .config,
                message:
                    "\(loaded.file): renewal.dir '\(renewal.directory)': \(error); fix: point renewal.dir at a folder the agent may write (default <spool.dir>/identity)"
            )
        }
        let configuredFingerprint = RenewalService.fingerprint(ofCertificateFile: loaded.tls.certFile)
        var (selection, notes) = store.recover(configuredFingerprint: configuredFingerprint)
        for note in notes { logger.notice("identity store: \(note)", metadata: ["dir": "\(renewal.directory)"]) }
        if case .configured = selection, configuredFingerprint == nil, let claim = renewal.claim {
            guard
                let generation = try await ClaimProvisioning(
                    configuration: loaded,
                    claim: claim,
                    store: store,
                    logger: logger
                )
                .obtain()
            else { return nil }
            selection = .active(generation)
        }
        let generation: IdentityStore.Generation?
        switch selection {
        case .configured:
            generation = nil
        case .active(let active):
            generation = active
            logger.info("using the renewed identity", metadata: ["generation": "\(active.name)"])
        case .trial(let trial, _):
            generation = trial
        }
        return RenewalStartup(
            configuration: IdentityStore.applying(generation, to: loaded),
            loaded: loaded,
            store: store,
            selection: selection
        )
    }

    func renewalService(control: PublisherControl, exchange: MessageExchange, logger: Logger) -> RenewalService? {
        guard let store, let settings = loaded.renewal else { return nil }
        return RenewalService(
            configuration: loaded,
            settings: settings,
            store: store,
            selection: selection,
            control: control,
            exchange: exchange,
            logger: logger
        )
    }
}

/// A board with a shared claim certificate and no identity of its own asks for one, as itself (client id =
/// `device.id`), on the claim's topic; the claim identity only ever makes this request, it never publishes a reading.
/// Retries with back-off until it has one or SIGTERM/SIGINT.
struct ClaimProvisioning {
    let configuration: AgentConfiguration
    let claim: AgentConfiguration.Renewal.Claim
    let store: IdentityStore
    let logger: Logger

    func obtain() async throws -> IdentityStore.Generation? {
        try KeyFilePolicy.check(keyFile: claim.keyFile, field: "renewal.claim_key_file")
        let claimTLS: TLSContext
        do {
            claimTLS = try TLSContext(
                configuration: TLSConfiguration(
                    caFile: configuration.tls.caFile,
                    caDirectory: configuration.tls.caDir,
                    certificateChainFile: claim.certFile,
                    privateKey: .file(claim.keyFile),
                    crlFile: configuration.tls.crlFile,
                    revocation: configuration.tls.crlMode,
                    ocsp: configuration.tls.ocsp,
                    serverName: configuration.tls.serverName,
                    minimumVersion: configuration.tls.minVersion == "1.3" ? .tls13 : .tls12
                )
            )
        } catch {
            throw AgentStartupError(
                exitCode: .config,
                message: "\(configuration.file): renewal.claim_cert_file/claim_key_file: \(error)"
            )
        }
        let result = ClaimResult()
        let service = ClaimService(provisioning: self, tls: claimTLS, result: result)
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(
                        service: service,
                        successTerminationBehavior: .gracefullyShutdownGroup,
                        serviceName: "renewal"
                    )
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
        return result.generation.withLock { $0 }
    }

    /// One request: connect with the claim identity, ask, check, store. The new identity is active at once (there
    /// is no older one of this device to fall back to).
    func attempt(tls: TLSContext) async throws(RenewalFailure) -> IdentityStore.Generation {
        let settings = configuration.renewal!
        let claimName = tls.deviceCertificate.commonName ?? ""
        let request = AgentConfiguration.Renewal.resolve(claim.topic, id: configuration.device.id, claim: claimName)
        var session = SessionSettings.make(configuration)
        session.will = nil
        session.cleanStart = true
        session.sessionExpiry = nil
        let connection: MQTTConnection
        do {
            connection = try await MQTTConnection.connect(
                host: configuration.broker.host,
                port: configuration.broker.port,
                connectTimeout: configuration.broker.connectTimeout,
                tls: tls,
                settings: session
            )
        } catch {
            throw RenewalFailure(.notConnected, "cannot connect with the claim certificate: \(error)")
        }
        defer { Task { await connection.disconnect() } }
        do {
            let codes = try await connection.subscribe([
                .init(topicFilter: request + "/accepted"), .init(topicFilter: request + "/rejected"),
            ])
            if let refused = codes.first(where: { $0.rawValue >= 0x80 }) {
                throw RenewalFailure(
                    .notConnected,
                    "the broker refused the claim's subscription to \(request)/accepted (\(refused)); fix: allow it in the ACL (mosquitto-conf acl --claim \(claimName))"
                )
            }
        } catch let failure as RenewalFailure {
            throw failure
        } catch {
            throw RenewalFailure(.notConnected, "claim: \(error)")
        }
        let pending: String
        do {
            pending = try store.makePending()
        } catch {
            throw RenewalFailure(.storage, "cannot prepare \(store.directory): \(error)")
        }
        let pin = configuration.tls.pinFile.flatMap { try? KeyFilePolicy.readSecret($0, field: "tls.pin_file") }
        let key = try NewKey.make(
            like: configuration.tls.privateKeySource(pin: pin),
            in: pending,
            pkcs11: PKCS11KeyMaker(now: RenewalService.epochSeconds)
        )
        let csr: [UInt8]
        do {
            csr = try key.key.certificateRequest(commonName: configuration.device.id)
            try await connection.publish(topic: request, payload: CertificateAPI.request(csr: csr))
        } catch {
            store.discardPending()
            throw RenewalFailure(.notConnected, "the claim request was not sent: \(error)")
        }
        let answer = await Self.first(of: connection.messages, within: settings.answerTimeout)
        guard let answer else {
            store.discardPending()
            throw RenewalFailure(
                .noAnswer,
                "no answer to the claim on \(request)/accepted within renewal.answer_timeout"
            )
        }
        guard answer.topic == request + "/accepted", let accepted = CertificateAPI.Accepted(answer.payload) else {
            store.discardPending()
            throw RenewalFailure(.rejected, "the CA refused the claim: \(CertificateAPI.Rejected(answer.payload))")
        }
        let anchors =
            (try? FileSystem.readFile(settings.caFile, limit: 4 << 20)).map(X509Certificate.certificates) ?? []
        let claimChain = (try? FileSystem.readFile(claim.certFile, limit: 1 << 20)).map(X509Certificate.certificates)
        switch IssuedCertificateCheck.check(
            pem: Array(accepted.certificatePEM.utf8),
            key: key.key,
            deviceID: configuration.device.id,
            rule: configuration.tls.identity,
            anchors: anchors,
            intermediates: Array((claimChain ?? []).dropFirst()),
            now: RenewalService.epochSeconds(),
            currentNotAfter: nil
        ) {
        case .failure(let refusal):
            store.discardPending()
            throw RenewalFailure(.refusedCertificate, "refused the certificate the claim obtained: \(refusal)")
        case .success(let issued):
            do {
                try FileSystem.writeFileAtomically(
                    pending + "/device.crt",
                    issued.chainPEM,
                    permissions: [.ownerReadWrite]
                )
                let generation = try store.promotePending()
                try store.commit(generation)
                logger.notice(
                    "obtained this device's own identity with the claim certificate",
                    metadata: [
                        "claim": "\(claimName)", "serial": "\(issued.serial)",
                        "not_after": "\(CertificateText.utc(issued.summary.notAfter))",
                    ]
                )
                return generation
            } catch {
                store.discardPending()
                throw RenewalFailure(.storage, "cannot store the identity in \(store.directory): \(error)")
            }
        }
    }

    /// The first message of `stream`, or nil after `timeout`.
    static func first(
        of stream: AsyncStream<PublishPacket>,
        within timeout: Duration
    ) async
        -> PublishPacket?
    {
        await withTaskGroup(of: PublishPacket?.self) { group in
            group.addTask {
                for await message in stream { return message }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}

/// Runs claim attempts until one succeeds, with back-off between failures (1 s doubling to 5 min).
private struct ClaimService: Service {
    let provisioning: ClaimProvisioning
    let tls: TLSContext
    let result: ClaimResult

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            var delay = Duration.seconds(1)
            while !Task.isCancelled {
                do throws(RenewalFailure) {
                    let generation = try await provisioning.attempt(tls: tls)
                    result.generation.withLock { $0 = generation }
                    return
                } catch {
                    provisioning.logger.error(
                        "no identity by claim yet: \(error.message); retrying in \(delay)",
                        metadata: ["code": "\(error.code.rawValue)"]
                    )
                }
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(300))
            }
        }
    }
}

private final class ClaimResult: Sendable {
    let generation = Mutex<IdentityStore.Generation?>(nil)
}
