public import Logging
internal import MQTT
internal import Publisher
public import ServiceLifecycle
internal import SystemExtras
internal import SystemPackage
internal import TLS
internal import Timestamps

/// Renews the device certificate over MQTT before it expires, and on request (`renewNow`, `pinpost renew`, a
/// command): a new key where the key lives, a request to `renewal.topic`, the answer checked, the new identity
/// stored next to the old one and tried; the broker's acceptance commits it, a refusal rolls back to the old one.
///
/// The swap's state lives in `IdentityStore` (`renewal.dir/state`), so a stop at any step leaves an identity the
/// next start connects with (see `RenewalStep`). Readings are never touched: the publisher's reconnect keeps the
/// MQTT session, so they wait in the session and the spool while the identity changes.
public final class RenewalService: Service, Sendable {
    /// The configuration as loaded (its `tls.cert_file` and `tls.key_file` are the configured identity).
    let configuration: AgentConfiguration
    let settings: AgentConfiguration.Renewal
    let store: IdentityStore
    /// What the start used: the configured identity, the active generation, or one on trial.
    let selection: IdentityStore.Selection
    let control: PublisherControl
    let exchange: MessageExchange
    let logger: Logger
    private let triggers = Mailbox<Trigger>()
    private let answers = Mailbox<PublishPacket>()
    private let events = Mailbox<PublisherConnectionEvent>()
    private let answerStream: AsyncStream<PublishPacket>
    private let topics: RenewalTopics

    private enum Trigger: Sendable {
        case request(reason: String, reply: CheckedContinuation<RenewalOutcome, Never>)
    }

    /// The identity in use, as the loop knows it.
    private struct Current {
        var generation: IdentityStore.Generation?
        var configuration: AgentConfiguration
        var endpoint: BrokerEndpoint
        var notAfter: Int64
        var intermediates: [X509Certificate]
    }

    /// - Parameters:
    ///   - configuration: as loaded; `selection` says which identity the publisher was started with.
    ///   - control, exchange: the publisher's; the answers' topics are taken from `exchange` now, before it runs.
    public init(
        configuration: AgentConfiguration,
        settings: AgentConfiguration.Renewal,
        store: IdentityStore,
        selection: IdentityStore.Selection,
        control: PublisherControl,
        exchange: MessageExchange,
        logger: Logger
    ) {
        self.configuration = configuration
        self.settings = settings
        self.store = store
        self.selection = selection
        self.control = control
        self.exchange = exchange
        self.logger = logger
        let topics = RenewalTopics(settings: settings, deviceID: configuration.device.id)
        self.topics = topics
        answerStream = exchange.messages(where: { topics.isAnswer($0) })
    }

    /// Renews now (or waits for the renewal under way and starts another) and returns how it ended. For commands
    /// (issue 16's `renew`) and `pinpost renew`; safe to call from any task.
    public func renewNow(reason: String) async -> RenewalOutcome {
        await withCheckedContinuation { reply in
            Task { await triggers.put(.request(reason: reason, reply: reply)) }
        }
    }

    public func run() async throws {
        let connectionEvents = control.connectionEvents()
        let answerStream = self.answerStream
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [events] in
                for await event in connectionEvents { await events.put(event) }
            }
            group.addTask { [answers] in
                for await answer in answerStream { await answers.put(answer) }
            }
            group.addTask { [self] in
                await RenewalControl(path: store.controlSocket, logger: logger) { reason in
                    await self.renewNow(reason: reason)
                }.run()
            }
            await cancelWhenGracefulShutdown { [self] in
                await loop()
            }
            group.cancelAll()
        }
    }

    // MARK: The loop

    private func loop() async {
        guard var current = startingIdentity() else { return }
        if case .trial(let generation, let previous) = selection {
            current = await resolveTrial(generation, previous: previous, current: current)
        } else if let generation = current.generation, store.load().unconfirmed == generation.name {
            await confirmWhenConnected(generation, certificateFile: generation.certFile)
        }
        var retryNotBefore: ContinuousClock.Instant?
        while !Task.isCancelled {
            let wait = waitBeforeAutomaticRenewal(current, retryNotBefore: retryNotBefore)
            let trigger = await triggers.next(timeout: wait)
            if Task.isCancelled {
                if case .request(_, let reply) = trigger {
                    reply.resume(returning: RenewalOutcome(renewed: false, failure: .init(.notConnected, "stopping")))
                }
                return
            }
            let outcome: RenewalOutcome
            switch trigger {
            case .request(let reason, let reply):
                outcome = await renew(reason: reason, current: &current)
                reply.resume(returning: outcome)
            case nil:
                guard isDue(current, retryNotBefore: retryNotBefore) else { continue }
                outcome = await renew(
                    reason:
                        "the certificate expires \(CertificateText.utc(current.notAfter)), within renewal.renew_before",
                    current: &current
                )
            }
            retryNotBefore = outcome.renewed ? nil : ContinuousClock.now + settings.retryAfter
            if outcome.renewed, isDue(current, retryNotBefore: nil) {
                // A CA whose certificates last less than renew_before would otherwise be asked again at once, and
                // again after that (each answer a new certificate, the previous one revoked).
                logger.warning(
                    "the renewed certificate is already within renewal.renew_before; the next automatic renewal waits renewal.retry_after",
                    metadata: [
                        "not_after": "\(CertificateText.utc(current.notAfter))",
                        "fix": "set renewal.renew_before below the CA's certificate lifetime",
                    ]
                )
                retryNotBefore = ContinuousClock.now + settings.retryAfter
            }
        }
    }

    /// Sleeps at most an hour at a time, so a wall clock that was stepped is looked at again.
    private func waitBeforeAutomaticRenewal(_ current: Current, retryNotBefore: ContinuousClock.Instant?) -> Duration {
        let now = UTCTime.now().epochMilliseconds / 1000
        let renewBefore = settings.renewBefore.components.seconds
        var wait = Duration.seconds(max(0, current.notAfter - renewBefore - now))
        if let retryNotBefore { wait = max(wait, retryNotBefore - ContinuousClock.now) }
        return min(max(wait, .milliseconds(1)), .seconds(3600))
    }

    private func isDue(_ current: Current, retryNotBefore: ContinuousClock.Instant?) -> Bool {
        if let retryNotBefore, ContinuousClock.now < retryNotBefore { return false }
        let now = UTCTime.now().epochMilliseconds / 1000
        return current.notAfter - settings.renewBefore.components.seconds <= now
    }

    private func startingIdentity() -> Current? {
        let generation: IdentityStore.Generation?
        switch selection {
        case .configured: generation = nil
        case .active(let active): generation = active
        case .trial(let trial, _): generation = trial
        }
        let effective = IdentityStore.applying(generation, to: configuration)
        guard let chain = try? FileSystem.readFile(effective.tls.certFile, limit: 1 << 20) else {
            logger.error("certificate renewal is off: cannot read \(effective.tls.certFile)")
            return nil
        }
        let certificates = X509Certificate.certificates(pem: chain)
        return Current(
            generation: generation,
            configuration: effective,
            endpoint: control.endpoint,
            notAfter: certificates.first?.summary.notAfter ?? 0,
            intermediates: Array(certificates.dropFirst())
        )
    }

    // MARK: A renewal

    private func renew(reason: String, current: inout Current) async -> RenewalOutcome {
        logger.notice("renewing the device certificate", metadata: ["reason": "\(reason)"])
        let outcome: RenewalOutcome
        do throws(RenewalFailure) {
            outcome = try await swap(current: &current)
            logger.notice(
                "certificate renewed",
                metadata: [
                    "serial": "\(outcome.serial ?? "")",
                    "not_after": "\(outcome.notAfter.map(CertificateText.utc) ?? "")",
                    "request_to_connection_ms": "\(outcome.requestToConnection.map(RenewalOutcome.milliseconds) ?? -1)",
                ]
            )
        } catch {
            outcome = RenewalOutcome(renewed: false, failure: error)
            logger.error(
                "certificate not renewed; the current identity stays: \(error.message)",
                metadata: ["code": "\(error.code.rawValue)"]
            )
        }
        publishStatus(outcome)
        return outcome
    }

    private func swap(current: inout Current) async throws(RenewalFailure) -> RenewalOutcome {
        guard await waitUntilConnected() else {
            throw RenewalFailure(
                .notConnected,
                "not connected to the broker within renewal.answer_timeout, so no request could be sent"
            )
        }
        // 1. A new key where the key lives, and the request it signs.
        let pending: String
        do {
            pending = try store.makePending()
        } catch {
            throw RenewalFailure(.storage, "cannot prepare \(store.directory): \(error)")
        }
        let keySource = current.configuration.tls.privateKeySource(pin: readPIN())
        let newKey: NewKey
        do {
            newKey = try NewKey.make(like: keySource, in: pending, pkcs11: PKCS11KeyMaker(now: Self.epochSeconds))
        } catch {
            store.discardPending()
            throw error
        }
        RenewalStep.keyMade.reached(logger: logger)
        let csr: [UInt8]
        do {
            csr = try newKey.key.certificateRequest(commonName: configuration.device.id)
        } catch {
            store.discardPending()
            throw RenewalFailure(.key, "cannot sign the certificate request: \(error)")
        }

        // 2. Ask, and check the answer.
        await answers.drain()
        let requestedAt = ContinuousClock.now
        exchange.send(OutboundMessage(topic: topics.request, payload: CertificateAPI.request(csr: csr)))
        let accepted: CertificateAPI.Accepted
        do {
            accepted = try await awaitAnswer()
        } catch {
            store.discardPending()
            throw error
        }
        let issued: IssuedCertificateCheck.Accepted
        switch IssuedCertificateCheck.check(
            pem: Array(accepted.certificatePEM.utf8),
            key: newKey.key,
            deviceID: configuration.device.id,
            rule: configuration.tls.identity,
            anchors: loadAnchors(),
            intermediates: current.intermediates,
            now: Self.epochSeconds(),
            currentNotAfter: current.notAfter
        ) {
        case .success(let checked): issued = checked
        case .failure(let refusal):
            store.discardPending()
            throw RenewalFailure(.refusedCertificate, "refused the issued certificate: \(refusal)")
        }
        if let template = settings.awsProvisioningTemplate {
            do {
                try await registerThing(template: template, ownershipToken: accepted.ownershipToken)
            } catch {
                store.discardPending()
                throw error
            }
        }

        // 3. Store it beside the old identity, then try it.
        let generation: IdentityStore.Generation
        do {
            try FileSystem.writeFileAtomically(pending + "/device.crt", issued.chainPEM, permissions: [.ownerReadWrite])
            RenewalStep.certificateWritten.reached(logger: logger)
            generation = try store.promotePending()
            RenewalStep.stored.reached(logger: logger)
            try store.beginTrial(generation, configuredFingerprint: configuredFingerprint())
            RenewalStep.trialRecorded.reached(logger: logger)
        } catch {
            store.discardPending()
            throw RenewalFailure(.storage, "cannot store the new identity in \(store.directory): \(error)")
        }
        let candidate = IdentityStore.applying(generation, to: configuration)
        let tls: TLSContext
        do {
            tls = try Agent.makeTLSContext(candidate)
        } catch {
            try? store.rollback(generation)
            throw RenewalFailure(.storage, "the new identity cannot be loaded: \(error)")
        }
        var endpoint = current.endpoint
        endpoint.tls = tls
        let previousEndpoint = current.endpoint
        await events.drain()
        control.reconnect(to: endpoint, reason: "certificate renewed (serial \(issued.serial))")
        RenewalStep.reconnecting.reached(logger: logger)
        switch await outcome(of: tls, within: settings.acceptTimeout) {
        case .accepted:
            break
        case .refused(let reason):
            try? store.rollback(generation)
            control.reconnect(
                to: previousEndpoint,
                reason: "the broker refused the renewed certificate; back to the old one"
            )
            throw RenewalFailure(
                .brokerRefused,
                "the broker refused the new certificate (serial \(issued.serial)): \(reason); back to the old identity"
            )
        }
        let connectedAfter = ContinuousClock.now - requestedAt
        RenewalStep.accepted.reached(logger: logger)

        // 4. Commit, forget the old key, tell the CA.
        do {
            try store.commit(generation)
        } catch {
            logger.error(
                "the new identity works but could not be recorded as active: \(error); the next start tries it again"
            )
        }
        RenewalStep.committed.reached(logger: logger)
        if let old = current.generation { store.remove(old) }
        RenewalStep.oldRemoved.reached(logger: logger)
        let certificates = X509Certificate.certificates(pem: issued.chainPEM)
        current = Current(
            generation: generation,
            configuration: candidate,
            endpoint: endpoint,
            notAfter: issued.summary.notAfter,
            intermediates: Array(certificates.dropFirst())
        )
        sendActivated(generation, fingerprint: issued.fingerprint, serial: issued.serial)
        return RenewalOutcome(
            renewed: true,
            serial: issued.serial,
            notAfter: issued.summary.notAfter,
            requestToConnection: connectedAfter
        )
    }

    private func awaitAnswer() async throws(RenewalFailure) -> CertificateAPI.Accepted {
        let deadline = ContinuousClock.now + settings.answerTimeout
        while ContinuousClock.now < deadline {
            guard let message = await answers.next(timeout: deadline - ContinuousClock.now) else { break }
            if message.topic == topics.accepted {
                guard let accepted = CertificateAPI.Accepted(message.payload) else {
                    throw RenewalFailure(.refusedCertificate, "refused the answer: no certificatePem in its JSON")
                }
                return accepted
            }
            if message.topic == topics.rejected {
                let rejected = CertificateAPI.Rejected(message.payload)
                throw RenewalFailure(.rejected, "the CA refused the request: \(rejected)")
            }
        }
        throw RenewalFailure(
            .noAnswer,
            "no answer on \(topics.accepted) or \(topics.rejected) within renewal.answer_timeout (\(settings.answerTimeout)); is the CA responder running and allowed to answer?"
        )
    }

    /// AWS IoT fleet provisioning: RegisterThing with the new certificate's ownership token activates it.
    private func registerThing(template: String, ownershipToken: String) async throws(RenewalFailure) {
        let topic = CertificateAPI.registerThingTopic(template: template)
        exchange.send(
            OutboundMessage(
                topic: topic,
                payload: CertificateAPI.registerThing(ownershipToken: ownershipToken, deviceID: configuration.device.id)
            )
        )
        let deadline = ContinuousClock.now + settings.answerTimeout
        while ContinuousClock.now < deadline {
            guard let message = await answers.next(timeout: deadline - ContinuousClock.now) else { break }
            if message.topic == topic + "/accepted" { return }
            if message.topic == topic + "/rejected" {
                throw RenewalFailure(
                    .registration,
                    "RegisterThing refused: \(CertificateAPI.Rejected(message.payload))"
                )
            }
        }
        throw RenewalFailure(.registration, "no answer to RegisterThing on \(topic)/accepted within answer_timeout")
    }

    // MARK: Connections

    private enum ConnectionOutcome {
        case accepted
        case refused(String)

        var isAccepted: Bool {
            if case .accepted = self { return true }
            return false
        }
    }

    /// The broker's verdict on the identity `tls`: its first acceptance, or the first refusal of an attempt made
    /// with it, or a refusal when neither came within `limit` (nil: wait as long as it takes).
    private func outcome(of tls: TLSContext, within limit: Duration?) async -> ConnectionOutcome {
        if control.acceptedIdentity === tls { return .accepted }
        let deadline = limit.map { ContinuousClock.now + $0 }
        while !Task.isCancelled {
            let left = deadline.map { $0 - ContinuousClock.now } ?? .seconds(3600)
            if left <= .zero { break }
            guard let event = await events.next(timeout: left) else { continue }
            switch event {
            case .accepted(let accepted) where accepted === tls: return .accepted
            case .refused(let refused, let reason) where refused === tls: return .refused(reason)
            default: continue
            }
        }
        if control.acceptedIdentity === tls { return .accepted }
        return .refused("not accepted within renewal.accept_timeout (\(limit.map { "\($0)" } ?? "-"))")
    }

    private func waitUntilConnected() async -> Bool {
        let deadline = ContinuousClock.now + settings.answerTimeout
        while control.acceptedIdentity == nil {
            let left = deadline - ContinuousClock.now
            guard left > .zero, !Task.isCancelled else { return false }
            _ = await events.next(timeout: min(left, .milliseconds(500)))
        }
        return true
    }

    /// A start with a generation on trial: the publisher connects with it first; accepted, it becomes the active
    /// one; refused, the previous identity takes over.
    private func resolveTrial(
        _ generation: IdentityStore.Generation,
        previous: IdentityStore.Generation?,
        current: Current
    ) async -> Current {
        logger.notice(
            "trying the renewed identity an interrupted renewal left",
            metadata: ["generation": "\(generation.name)"]
        )
        switch await outcome(of: current.endpoint.tls, within: nil) {
        case .accepted:
            if Task.isCancelled { return current }
            do {
                try store.commit(generation)
            } catch {
                logger.error("the renewed identity works but could not be recorded as active: \(error)")
            }
            if let previous { store.remove(previous) }
            logger.notice(
                "the renewed identity was accepted; it is now the active one",
                metadata: ["generation": "\(generation.name)"]
            )
            await confirmWhenConnected(generation, certificateFile: generation.certFile)
            return current
        case .refused(let reason):
            if Task.isCancelled { return current }
            logger.error(
                "the broker refused the renewed identity an interrupted renewal left: \(reason); back to the previous one"
            )
            try? store.rollback(generation)
            let fallback = IdentityStore.applying(previous, to: configuration)
            guard let tls = try? Agent.makeTLSContext(fallback),
                let chain = try? FileSystem.readFile(fallback.tls.certFile, limit: 1 << 20)
            else {
                logger.critical("the previous identity cannot be loaded either; the agent cannot connect")
                return current
            }
            var endpoint = current.endpoint
            endpoint.tls = tls
            control.reconnect(to: endpoint, reason: "the renewed identity was refused; back to the previous one")
            let certificates = X509Certificate.certificates(pem: chain)
            return Current(
                generation: previous,
                configuration: fallback,
                endpoint: endpoint,
                notAfter: certificates.first?.summary.notAfter ?? 0,
                intermediates: Array(certificates.dropFirst())
            )
        }
    }

    /// Tells the CA a generation is in use once connected with it (a start after a stop between commit and notice).
    private func confirmWhenConnected(_ generation: IdentityStore.Generation, certificateFile: String) async {
        guard await outcome(of: control.endpoint.tls, within: nil).isAccepted,
            let bytes = try? FileSystem.readFile(certificateFile, limit: 1 << 20),
            let leaf = X509Certificate.certificates(pem: bytes).first
        else { return }
        sendActivated(generation, fingerprint: leaf.sha256Fingerprint, serial: leaf.serialHex)
    }

    private func sendActivated(_ generation: IdentityStore.Generation, fingerprint: String, serial: String) {
        if let topic = topics.activated {
            exchange.send(
                OutboundMessage(
                    topic: topic,
                    payload: CertificateAPI.activated(certificateID: fingerprint, serial: serial)
                )
            )
        }
        store.confirmed(generation.name)
    }

    /// `devices/<id>/identity` (retained): the last renewal's result, for operators and dashboards.
    private func publishStatus(_ outcome: RenewalOutcome) {
        let state = outcome.renewed ? "renewed" : (outcome.failure?.code == .brokerRefused ? "rolled-back" : "failed")
        let payload = JSONValue.object([
            ("state", state), ("serial", outcome.serial), ("not_after", outcome.notAfter.map(CertificateText.utc)),
            ("code", outcome.failure?.code.rawValue), ("reason", outcome.failure?.message),
            ("ts", UTCTime.now().rfc3339),
        ])
        exchange.send(OutboundMessage(topic: topics.status, payload: Array(payload.utf8), retain: true))
    }

    // MARK: Helpers

    private func loadAnchors() -> [X509Certificate] {
        guard let bytes = try? FileSystem.readFile(settings.caFile, limit: 4 << 20) else { return [] }
        return X509Certificate.certificates(pem: bytes)
    }

    private func readPIN() -> String? {
        configuration.tls.pinFile.flatMap { try? KeyFilePolicy.readSecret($0, field: "tls.pin_file") }
    }

    private func configuredFingerprint() -> String? {
        Self.fingerprint(ofCertificateFile: configuration.tls.certFile)
    }

    static func fingerprint(ofCertificateFile path: String) -> String? {
        guard let bytes = try? FileSystem.readFile(path, limit: 1 << 20) else { return nil }
        return X509Certificate.certificates(pem: bytes).first?.sha256Fingerprint
    }

    @Sendable static func epochSeconds() -> Int64 {
        UTCTime.now().epochMilliseconds / 1000
    }
}
