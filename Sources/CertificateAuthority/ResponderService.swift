public import Logging
internal import MQTT
internal import NIOPosix
internal import PinpostAgent
public import ServiceLifecycle
internal import SystemExtras
internal import TLS
internal import Timestamps

/// `pinpost-ca serve`: keeps a connection to the broker with the responder's own identity, subscribed to the request
/// and activation topics, and answers each request on `<request topic>/accepted` or `/rejected`. Reconnects with
/// back-off; its session is persistent, so requests published while it was away are delivered when it is back.
public struct ResponderService: Service {
    let configuration: ResponderConfiguration
    let logger: Logger

    public init(configuration: ResponderConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        let tls = try TLSContext(
            configuration: TLSConfiguration(
                caFile: configuration.caFile,
                certificateChainFile: configuration.certFile,
                privateKey: .file(configuration.keyFile),
                serverName: configuration.serverName
            )
        )
        let clientID = configuration.clientID ?? tls.deviceCertificate.commonName ?? "pinpost-ca"
        let responder = Responder(configuration: configuration, logger: logger)
        await cancelWhenGracefulShutdown {
            var delay = Duration.seconds(1)
            while !Task.isCancelled {
                var settings = ClientSession.Configuration(
                    clientID: clientID,
                    version: configuration.protocolVersion,
                    keepAlive: configuration.keepAlive
                )
                settings.sessionExpiry = configuration.protocolVersion == .v5 ? 86_400 : nil
                settings.pingTimeout = max(configuration.keepAlive / 2, .seconds(1))
                settings.connAckTimeout = configuration.connectTimeout
                do throws(MQTTConnectionError) {
                    let connection = try await MQTTConnection.connect(
                        host: configuration.host,
                        port: configuration.port,
                        connectTimeout: configuration.connectTimeout,
                        tls: tls,
                        settings: settings,
                        resumesBrokerSession: true
                    )
                    let codes = try await connection.subscribe(responder.filters.map { Subscription(topicFilter: $0) })
                    for (filter, code) in zip(responder.filters, codes) where code.rawValue >= 0x80 {
                        logger.error(
                            "the broker refused the subscription to \(filter): \(code); fix: allow it in the ACL (mosquitto-conf acl --ca-responder \(clientID))"
                        )
                    }
                    logger.notice(
                        "answering certificate requests",
                        metadata: ["broker": "\(configuration.host):\(configuration.port)", "client_id": "\(clientID)"]
                    )
                    delay = .seconds(1)
                    await serve(connection, responder: responder)
                    await connection.disconnect()
                } catch {
                    logger.error("broker connection failed: \(error); retrying in \(delay)")
                }
                guard (try? await Task.sleep(for: delay)) != nil else { break }
                delay = min(delay * 2, .seconds(60))
            }
        }
    }

    private func serve(_ connection: MQTTConnection, responder: Responder) async {
        await withTaskCancellationHandler {
            for await message in connection.messages {
                let now = UTCTime.now().epochMilliseconds / 1000
                // Signing runs pinpost-pki and waits for it: off the cooperative pool.
                let replies =
                    (try? await NIOThreadPool.singleton.runIfActive {
                        responder.handle(topic: message.topic, payload: message.payload, now: now)
                    }) ?? []
                for reply in replies {
                    do {
                        try await connection.publish(topic: reply.topic, payload: reply.payload)
                    } catch {
                        logger.error("answer to \(reply.topic) not delivered: \(error)")
                    }
                }
            }
        } onCancel: {
            Task { await connection.disconnect() }
        }
    }
}
