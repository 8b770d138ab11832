internal import Logging
internal import MQTT
internal import Publisher
internal import SystemExtras
internal import Timestamps

/// Handles one command message at a time, in arrival order: routes it by topic, decodes it, refuses what is
/// malformed, retained, expired, undatable or already handled, records its id, applies it through the targets
/// and builds the reply (to the MQTT 5 Response Topic with its Correlation Data, or to `devices/<id>/replies`).
struct CommandProcessor {
    /// What happened to the commands so far (logged at shutdown; the figures of the README come from them).
    struct Counts: Sendable, Equatable {
        var received = 0
        var applied = 0
        var refused = 0
        var duplicates = 0
    }

    let topics: CommandTopics
    private(set) var ledger: CommandLedger
    let targets: any CommandTargets
    /// Whether the wall clock may judge a command's time (synchronized, or `time.require_sync = false`).
    let clockTrusted: @Sendable () -> Bool
    let logger: Logger
    private(set) var counts = Counts()

    init(
        topics: CommandTopics,
        ledger: CommandLedger,
        targets: any CommandTargets,
        clockTrusted: @escaping @Sendable () -> Bool,
        logger: Logger
    ) {
        self.topics = topics
        self.ledger = ledger
        self.targets = targets
        self.clockTrusted = clockTrusted
        self.logger = logger
    }

    /// The reply to publish, or nil for a message that is not this device's command (never delivered by a broker
    /// that enforces the ACL).
    /// - Parameter waited: how long the message has waited in the agent since it arrived.
    mutating func handle(_ message: PublishPacket, waited: Duration) async -> OutboundMessage? {
        let route = topics.route(message.topic)
        if route == .foreign {
            logger.warning("message outside the command topics ignored", metadata: ["topic": "\(message.topic)"])
            return nil
        }
        counts.received += 1
        var replyTopic = topics.replies
        let reply: CommandReply
        if let responseTopic = message.properties.responseTopic, !topics.acceptsResponseTopic(responseTopic) {
            reply = refuse(
                CommandReply(
                    outcome: .failure(
                        CommandError(
                            .badResponseTopic,
                            "the Response Topic '\(responseTopic.prefix(80))' is outside \(topics.replies)/#, where this device may publish and operators may read"
                        )
                    )
                ),
                topic: message.topic
            )
        } else {
            replyTopic = message.properties.responseTopic ?? topics.replies
            switch route {
            case .json:
                reply = await handleJSON(message, waited: waited)
            case .plainOutput(let name):
                reply = await handlePlain(message, output: name, waited: waited)
            case .unknown, .foreign:
                reply = refuse(
                    CommandReply(
                        outcome: .failure(
                            CommandError(
                                .unknownTopic,
                                "'\(message.topic.prefix(120))' is not a command topic; send JSON commands to \(topics.commands) (or plain on/off to \(topics.commands)/outputs/<name>)"
                            )
                        )
                    ),
                    topic: message.topic
                )
            }
        }
        var properties = PublishProperties()
        properties.correlationData = message.properties.correlationData
        properties.contentType = "application/json"
        return OutboundMessage(topic: replyTopic, payload: reply.bytes, qos: .atLeastOnce, properties: properties)
    }

    private mutating func handleJSON(_ message: PublishPacket, waited: Duration) async -> CommandReply {
        let request: CommandRequest
        do {
            request = try CommandDecoder.decode(message.payload)
        } catch {
            return refuse(
                CommandReply(id: error.id, command: error.command, outcome: .failure(error.error)),
                topic: message.topic
            )
        }
        if let entry = ledger.lookup(request.id) {
            counts.duplicates += 1
            logger.notice(
                "command already handled, not applied again",
                metadata: ["id": "\(request.id)", "first_outcome": "\(entry.outcome)", "dup": "\(message.dup)"]
            )
            let outcome: Result<CommandReply.Fields, CommandError> =
                entry.outcome == "ok"
                ? .success([])
                : .failure(
                    CommandError(
                        CommandError.Code(rawValue: entry.outcome) ?? .malformed,
                        field: "id",
                        "command '\(request.id)' was refused when first handled (\(entry.outcome)); an id is handled once, so send a new id"
                    )
                )
            return CommandReply(
                id: request.id,
                command: request.name,
                outcome: outcome,
                firstHandled: entry.handledAt
            )
        }
        let now = UTCTime.now()
        var refusal = CommandGate.check(
            expires: request.expires,
            messageExpiry: message.properties.messageExpiryInterval,
            waited: waited,
            wallNow: now,
            clockTrusted: clockTrusted()
        )
        if refusal == nil, message.retain { refusal = Self.retainedError }
        if let refusal {
            // Recorded too: an id is handled once, whatever the outcome.
            try? ledger.record(request.id, at: now, outcome: refusal.code.rawValue)
            return refuse(
                CommandReply(id: request.id, command: request.name, outcome: .failure(refusal)),
                topic: message.topic
            )
        }
        do {
            try ledger.record(request.id, at: now, outcome: "ok")
        } catch {
            return refuse(
                CommandReply(
                    id: request.id,
                    command: request.name,
                    outcome: .failure(
                        CommandError(
                            .storageFailed,
                            "not applied: its id could not be recorded (\(error)), so a redelivery could apply it twice"
                        )
                    )
                ),
                topic: message.topic
            )
        }
        let outcome = await apply(request.action)
        if case .failure(let error) = outcome {
            try? ledger.record(request.id, at: now, outcome: error.code.rawValue)
            return refuse(CommandReply(id: request.id, command: request.name, outcome: outcome), topic: message.topic)
        }
        counts.applied += 1
        logger.info("command applied", metadata: ["id": "\(request.id)", "command": "\(request.name)"])
        return CommandReply(id: request.id, command: request.name, outcome: outcome)
    }

    /// `devices/<id>/commands/outputs/<name>` with `on` or `off`: no id, so QoS 0 only (at most once by MQTT
    /// itself, never queued for an offline device) and never retained.
    private mutating func handlePlain(_ message: PublishPacket, output: String, waited: Duration) async -> CommandReply
    {
        let text = String(decoding: message.payload, as: UTF8.self)
        let value: CommandRequest.OutputValue
        switch text {
        case "on", "ON": value = .on
        case "off", "OFF": value = .off
        default:
            return refuse(
                CommandReply(
                    command: "set_output",
                    outcome: .failure(
                        CommandError(
                            .badValue,
                            field: "value",
                            "'\(text.prefix(40))' is not a state; this topic takes the payload on or off"
                        )
                    )
                ),
                topic: message.topic
            )
        }
        var refusal = CommandGate.check(
            expires: nil,
            messageExpiry: message.properties.messageExpiryInterval,
            waited: waited,
            wallNow: .now(),
            clockTrusted: true
        )
        if message.retain { refusal = Self.retainedError }
        if message.qos != .atMostOnce {
            refusal = CommandError(
                .qosNotAllowed,
                "this topic carries no command id, so it takes QoS 0 only (at most once); send a JSON set_output with an id to \(topics.commands) for QoS 1"
            )
        }
        if let refusal {
            return refuse(CommandReply(command: "set_output", outcome: .failure(refusal)), topic: message.topic)
        }
        let outcome = await apply(.setOutput(output: output, value: value, pulse: nil))
        if case .success = outcome {
            counts.applied += 1
            logger.info("command applied", metadata: ["topic": "\(message.topic)", "value": "\(value.rawValue)"])
            return CommandReply(command: "set_output", outcome: outcome)
        }
        return refuse(CommandReply(command: "set_output", outcome: outcome), topic: message.topic)
    }

    private static let retainedError = CommandError(
        .retained,
        "delivered as a retained message, which the broker hands to every new subscription; publish commands without the retain flag"
    )

    private func apply(_ action: CommandRequest.Action) async -> Result<CommandReply.Fields, CommandError> {
        do throws(CommandError) {
            switch action {
            case .setOutput(let output, let value, let pulse):
                return .success(try await targets.setOutput(output, to: value, pulse: pulse))
            case .readSensor(let sensor):
                return .success(try await targets.readSensor(sensor))
            case .publishStatus:
                return .success(await targets.publishStatus())
            case .applyConfig(let text):
                return .success(try await targets.applyConfig(text))
            case .ping:
                return .success([
                    ReplyField("pong", .bool(true)), ReplyField("version", .string(PinpostVersion.current)),
                    ReplyField("ts", .string(UTCTime.now().rfc3339)),
                ])
            }
        } catch {
            return .failure(error)
        }
    }

    private mutating func refuse(_ reply: CommandReply, topic: String) -> CommandReply {
        counts.refused += 1
        if case .failure(let error) = reply.outcome {
            logger.notice(
                "command refused",
                metadata: [
                    "id": "\(reply.id ?? "-")", "code": "\(error.code.rawValue)", "field": "\(error.field ?? "-")",
                    "topic": "\(topic)", "reason": "\(error.message)",
                ]
            )
        }
        return reply
    }
}
