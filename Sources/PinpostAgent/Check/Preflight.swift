internal import ClockTrust
internal import MQTT
internal import SystemExtras
internal import TLS
internal import Timestamps

/// `pinpost check`: each pre-flight step as PASS or FAIL with the reason, in the order the agent depends on them.
public enum Preflight {
    public struct Result: Sendable, Equatable, CustomStringConvertible {
        public var name: String
        public var passed: Bool
        public var detail: String

        public var description: String { "\(passed ? "PASS" : "FAIL") \(name): \(detail)" }
    }

    /// Runs every check it can; a failed prerequisite turns the checks that need it into FAILs that say so.
    /// `report` is called as each result is known, so a slow network check does not hide the earlier ones.
    public static func run(
        configuration: AgentConfiguration,
        timeout: Duration,
        report: (Result) -> Void
    ) async -> [Result] {
        var results: [Result] = []
        func add(_ name: String, _ passed: Bool, _ detail: String) {
            let result = Result(name: name, passed: passed, detail: detail)
            results.append(result)
            report(result)
        }

        add(
            "config",
            true,
            "\(configuration.file): device '\(configuration.device.id)', broker \(configuration.broker.host):\(configuration.broker.port) (MQTT \(configuration.broker.protocolVersion)), \(configuration.sensors.count) sensor(s)"
        )

        do {
            let checked = try KeyFilePolicy.checkSecrets(configuration)
            let key = configuration.tls.privateKeySource(pin: nil)
            let keyText = key.filePath == nil ? "\(key) is a hardware key (no key file)" : ""
            let files = checked.isEmpty ? "" : "\(checked.joined(separator: ", ")) private to this user"
            add("key file", true, [keyText, files].filter { !$0.isEmpty }.joined(separator: "; "))
        } catch {
            add("key file", false, error.message)
        }

        let floor = ClockFloor.make(for: configuration)
        let wallNow = UTCTime.now().epochMilliseconds / 1000
        var context: TLSContext?
        do {
            let tls = try Agent.makeTLSContext(configuration)
            // With a clock below the floor, validity is judged at the floor; the clock line says why.
            let status = try DeviceIdentity.check(
                configuration: configuration,
                certificate: tls.deviceCertificate,
                now: max(wallNow, floor.floor)
            )
            let certificate = tls.deviceCertificate
            var detail =
                "device certificate CN=\(certificate.commonName ?? "?") issued by \"\(certificate.issuer)\", \(status.daysLeft) days left"
            if let warning = status.warning {
                detail += " (WARNING: \(warning))"
            }
            detail +=
                "; identity rule \(configuration.tls.identity); key matches; trust anchors from \(tls.configuration.trustAnchorDescription)"
            detail += "; CRL check \(configuration.tls.crlMode.rawValue)"
            if let nextUpdate = tls.crlNextUpdate {
                let now = UTCTime.now().epochMilliseconds / 1000
                detail +=
                    nextUpdate < now
                    ? " (WARNING: tls.crl_file expired at \(CertificateSummary.utc(nextUpdate)); handshakes will fail until it is refreshed)"
                    : " (CRL next update \(CertificateSummary.utc(nextUpdate)))"
            }
            detail += "; OCSP stapling \(configuration.tls.ocsp.rawValue)"
            add("certificates", true, detail)
            context = tls
        } catch {
            add("certificates", false, error.message)
        }

        let clock = CombinedClockProbe.full(maxErrorMilliseconds: configuration.time.maxErrorMilliseconds).report()
        if let violation = floor.violation(now: wallNow) {
            add("clock", false, "\(violation); \(clock)")
        } else if clock.synchronized {
            add("clock", true, "\(clock)")
        } else if !configuration.time.requireSync {
            add("clock", true, "\(clock); not required (time.require_sync = false)")
        } else {
            add(
                "clock",
                false,
                "\(clock); the agent will wait before connecting; fix: enable NTP (systemd-timesyncd, chrony) or set time.require_sync = false for testing"
            )
        }

        guard let context else {
            add("tls handshake", false, "skipped: the certificates check failed")
            add("mqtt connect", false, "skipped: the certificates check failed")
            return results
        }
        let probe = BrokerProbe(configuration: configuration, tls: context, timeout: timeout)
        switch await probe.handshakeAndConnect() {
        case .tlsFailed(let failure):
            add("tls handshake", false, failure.description)
            add("mqtt connect", false, "skipped: no verified TLS connection")
        case .connected(let handshake, let outcome):
            let peer = handshake.peerCertificate.map { " with broker \($0.subject)" } ?? ""
            add(
                "tls handshake",
                true,
                "\(handshake.protocolVersion) \(handshake.cipher)\(peer), chain and name '\(configuration.tls.serverName)' verified\(handshake.ocspStapleVerified ? ", OCSP staple good" : "")"
            )
            switch outcome {
            case .accepted(let sessionPresent):
                add(
                    "mqtt connect",
                    true,
                    "CONNACK accepted client id '\(configuration.device.id)' (session present: \(sessionPresent))"
                )
            case .refused(let reason, let notice):
                let said = notice.isEmpty ? "" : " (\(notice))"
                let fix =
                    notice.serverReference != nil
                    ? "set broker.host to the server it points to, if that is yours"
                    : "check the broker's ACL and that it maps this certificate to a permitted identity"
                add("mqtt connect", false, "broker refused CONNECT: \(reason)\(said); fix: \(fix)")
            case .failed(let detail):
                add("mqtt connect", false, detail)
            }
        }
        return results
    }
}
