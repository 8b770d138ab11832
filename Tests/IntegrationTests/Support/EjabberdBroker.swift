import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// ejabberd (Debian 12's package, 23.01) as a second MQTT broker implementation: its `mod_mqtt` speaks
/// MQTT 5.0 and 3.1.1, in Erlang, written independently of Mosquitto.
///
/// A private instance per test, side by side with any other (and with a system ejabberd, which the tests
/// neither need nor touch): its own config, Mnesia spool and log folder under the test's folder, one TLS
/// listener on a free loopback port. The Erlang VM is started without distribution (no `-sname`), so there
/// is no node name to clash, no epmd and no cookie; `ejabberdctl` is not used (it wants a named node, the
/// `ejabberd` system user and /var/lib/ejabberd).
///
/// Mutual TLS: the listener has `tls: true` and `tls_verify: true`; ejabberd presents `certfiles` and asks
/// every client for a certificate, verified against `c2s_cafile` (our test CA). A client that sends no
/// password is authenticated by that certificate only: its subject CN, as `CN@localhost`, must equal the
/// user it logs in as, which is the MQTT user name, or the client id when there is no user name. The agent
/// (client id = device id = CN, no user name) passes; no certificate, a certificate from another CA or a
/// client id that is not the CN gets CONNACK "not authorized" (the TLS handshake itself completes).
///
/// Sessions live in Erlang processes and in RAM tables: a restart forgets every session and its queue
/// (retained messages survive, on disk). A graceful stop (SIGTERM: the VM runs `init:stop()`) closes every
/// connection with neither an MQTT DISCONNECT nor a TLS close_notify.
///
/// Measured on the 2-core CI machine, idle: a start takes 1.3-1.5 s until the listener accepts (up to 2.4 s
/// with a fresh spool), a graceful stop 2.5-2.7 s (ejabberd itself is down within 50 ms; the rest is the
/// Erlang VM halting, which takes 1 s even for a bare `erl`). Under a parallel `swift build` a start took up
/// to 28 s, hence the generous bounds below.
final class EjabberdBroker {
    /// The observer identity (CN), shared with `TestBroker` so `TestPKI.watcher()` serves both.
    static let watcherID = TestBroker.watcherID

    let folder: URL
    let port: Int
    let pki: TestPKI
    private var process: ChildProcess
    private let arguments: [String]
    private let environment: [String: String]

    var logFile: String { folder.appendingPathComponent("logs/ejabberd.log").path }
    var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

    static let erl = "/usr/bin/erl"

    /// The folder holding `ejabberd-<version>/` (what `ejabberdctl` puts in ERL_LIBS), if ejabberd is installed.
    static let libraries: String? = {
        let fileManager = FileManager.default
        let roots = ((try? fileManager.contentsOfDirectory(atPath: "/usr/lib")) ?? []).sorted().map { "/usr/lib/\($0)" }
        for root in roots {
            let entries = (try? fileManager.contentsOfDirectory(atPath: root)) ?? []
            if entries.contains(where: {
                $0.hasPrefix("ejabberd-") && fileManager.fileExists(atPath: "\(root)/\($0)/ebin/ejabberd.app")
            }) {
                return root
            }
        }
        return nil
    }()

    /// True when Debian's ejabberd package (and so Erlang) is installed; `board/dev/install-deps` installs it.
    static var isInstalled: Bool { libraries != nil && FileManager.default.isExecutableFile(atPath: erl) }

    /// - Parameter logLevel: ejabberd's `loglevel`; `info` logs every MQTT session opened and closed,
    ///   `debug` every packet (useful when a test fails, too verbose to keep on).
    init(pki: TestPKI, name: String = "ejabberd", logLevel: String = "info") async throws {
        guard let libraries = Self.libraries, Self.isInstalled else {
            throw HarnessError("ejabberd is not installed (apt-get install ejabberd, or board/dev/install-deps)")
        }
        self.pki = pki
        folder = pki.folder.appendingPathComponent(name)
        let spool = folder.appendingPathComponent("spool").path
        let logs = folder.appendingPathComponent("logs").path
        for path in [spool, logs] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        let server = try await pki.server("\(name)-server", hosts: ["localhost", "127.0.0.1"])
        let configFile = folder.appendingPathComponent("ejabberd.yml").path
        environment = [
            "ERL_LIBS": libraries,
            "EJABBERD_CONFIG_PATH": configFile,
            "EJABBERD_LOG_PATH": "\(logs)/ejabberd.log",
            "ERL_CRASH_DUMP": "\(logs)/erl_crash.dump",
            "ERL_CRASH_DUMP_BYTES": "0",
            "CONTRIB_MODULES_PATH": folder.appendingPathComponent("contrib").path,
            // Not ours to talk to: ejabberd would notify (and expect a watchdog from) a systemd that ran the tests.
            "NOTIFY_SOCKET": "",
            "WATCHDOG_USEC": "",
        ]
        // What `ejabberdctl foreground` runs, less the node name: Mnesia keeps its tables in `spool`.
        arguments = ["-noinput", "-mnesia", "dir", "\"\(spool)\"", "-s", "ejabberd"]

        var lastError = ""
        for _ in 0..<5 {
            let port = try Loopback.freePort()
            try Self.configuration(port: port, pki: pki, server: server, logLevel: logLevel)
                .write(toFile: configFile, atomically: true, encoding: .utf8)
            let process = try ChildProcess(
                Self.erl,
                arguments,
                outputPath: "\(logs)/stdout.log",
                environment: environment
            )
            if try await Loopback.waitForListeners([port], process: process, timeout: Self.startTimeout) {
                self.port = port
                self.process = process
                return
            }
            process.kill()
            lastError = (try? String(contentsOfFile: "\(logs)/stdout.log", encoding: .utf8)) ?? "no output"
        }
        throw HarnessError("ejabberd did not start: \(lastError.suffix(3000))")
    }

    /// The whole configuration: one host, one MQTT listener with mutual TLS, only `mod_mqtt`.
    static func configuration(port: Int, pki: TestPKI, server: TestPKI.Identity, logLevel: String) -> String {
        """
        # Written by EjabberdBroker (Tests/IntegrationTests/Support/EjabberdBroker.swift).
        hosts:
          - localhost
        loglevel: \(logLevel)
        # The broker's certificate and key (ejabberd pairs them up itself).
        certfiles:
          - \(server.certificate)
          - \(server.key)
        # Trust anchors ejabberd checks its own certfiles against (else it warns "signed by unknown CA").
        ca_file: \(pki.caCertificate)
        # Trust anchors for the client certificates mod_mqtt verifies.
        c2s_cafile: \(pki.caCertificate)
        listen:
          -
            port: \(port)
            ip: "127.0.0.1"
            module: mod_mqtt
            tls: true
            tls_verify: true
        modules:
          mod_mqtt:
            session_expiry: 300
            max_queue: 5000
        """
    }

    /// SIGTERM: the Erlang VM runs `init:stop()`; ejabberd stops its listener and every session, then the VM exits.
    func stop() async {
        await process.stop(grace: .seconds(30))
    }

    /// Starts ejabberd again on the same port, with the same spool.
    func start() async throws {
        guard !process.isRunning else { return }
        for _ in 0..<20 {
            let process = try ChildProcess(
                Self.erl,
                arguments,
                outputPath: folder.appendingPathComponent("logs/stdout.log").path,
                environment: environment
            )
            if try await Loopback.waitForListeners([port], process: process, timeout: Self.startTimeout) {
                self.process = process
                return
            }
            process.kill()
            // The port may still be held briefly by the previous VM's sockets: a pause before the next attempt.
            try await Task.sleep(for: .milliseconds(200))
        }
        throw HarnessError("ejabberd did not restart on port \(port): \(log.suffix(3000))")
    }

    /// A test that ends without ``stop()`` (it threw) ends the VM and its helpers at once.
    deinit {
        process.kill()
    }

    /// How long a start may take until the listener accepts (a failure bound: a loaded 2-core machine).
    private static let startTimeout: Duration = .seconds(60)
}

extension EjabberdBroker {
    /// Publishes `payload` to `devices/_probe` at QoS 1 with the observer identity (bounded); false if refused.
    @discardableResult
    func probe(_ payload: String) async -> Bool {
        guard let watcher = try? await pki.watcher() else { return false }
        let result = try? await Command.run(
            "/usr/bin/mosquitto_pub",
            [
                "-h", "localhost", "-p", "\(port)", "--cafile", watcher.trustAnchor, "--cert", watcher.certificate,
                "--key", watcher.key,
                "-u", Self.watcherID, "-i", "probe-\(UUID().uuidString.prefix(8))", "-q", "1",
                "-t", "devices/_probe", "-m", payload,
            ],
            timeout: .seconds(10)
        )
        return result?.status == 0
    }

    /// Waits (bounded) until a probe published now reaches every observer: each has a subscription, and since
    /// ejabberd delivers to a subscriber in the order it routed, everything routed to them before the probe has
    /// been delivered too. (`mosquitto_sub` writes its `-d` trace, SUBACK included, through a buffer it flushes
    /// only when it prints a message, so a message is the one sign of a subscription that shows at once.)
    func awaitDelivery(to observers: [Subscriber], timeout: Duration = .seconds(30)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let token = "probe-\(UUID().uuidString.prefix(8))"
            await probe(token)
            // A probe may reach a subscriber that was not subscribed yet: probe again after a while.
            if try await waitFor(
                timeout: .seconds(1),
                { observers.allSatisfy { $0.output.contains("devices/_probe \(token)") } }
            ) {
                return true
            }
        }
        return false
    }
}

extension Subscriber {
    /// `mosquitto_sub` against ejabberd: logs in as user `watcher` (its certificate's CN, so the certificate
    /// authenticates it whatever its client id) and prints the protocol trace (`-d`, for the record); it is
    /// ready once a probe message published after it started arrives (see `EjabberdBroker.awaitDelivery(to:)`).
    /// ejabberd forgets sessions on restart; the supervisor's next mosquitto_sub then subscribes afresh.
    convenience init(ejabberd broker: EjabberdBroker, clientID: String, qos: Int) async throws {
        var token = ""
        var probedAt = ContinuousClock.now - .seconds(10)
        try await self.init(
            port: broker.port,
            identity: broker.pki.watcher(),
            folder: broker.folder,
            topic: "devices/#",
            persistentSession: clientID,
            qos: qos,
            extraArguments: ["-u", EjabberdBroker.watcherID, "-d"],
            readyTimeout: .seconds(30)
        ) { _, output in
            if !token.isEmpty && output.contains("devices/_probe \(token)") { return true }
            if ContinuousClock.now - probedAt > .seconds(1) {
                token = "probe-\(UUID().uuidString.prefix(8))"
                probedAt = ContinuousClock.now
                await broker.probe(token)
            }
            return false
        }
    }
}
