internal import Logging
internal import MQTT
internal import Publisher
internal import SystemExtras

/// Publishes the discovery configs (retained) and removes the ones of sensors and outputs that left the
/// configuration (an empty retained message on their topic), remembering what it announced in
/// `spool.dir/homeassistant/announced` so a removal survives a restart.
///
/// Removed topics stay listed as retired for a while and get their empty message again at every start: one that
/// was still waiting in the MQTT session when the agent stopped is not lost.
struct DiscoveryAnnouncer {
    static let retiredLimit = 256

    let path: String
    let logger: Logger
    let send: @Sendable (OutboundMessage) -> Void

    init(spoolFolder: String, logger: Logger, send: @escaping @Sendable (OutboundMessage) -> Void) {
        self.path = spoolFolder + "/homeassistant/announced"
        self.logger = logger
        self.send = send
    }

    /// What the file says: topics announced, and topics removed not long ago.
    struct Record: Equatable {
        var announced: [String] = []
        var retired: [String] = []
    }

    /// Announces `configuration`'s entities and removes the rest; returns the topics removed now.
    @discardableResult
    func announce(_ configuration: AgentConfiguration) -> [String] {
        let messages = DiscoveryConfigs.messages(for: configuration)
        let current = messages.map(\.topic)
        let previous = load()
        let removed = previous.announced.filter { !current.contains($0) }
        var retired = (previous.retired + removed).filter { !current.contains($0) }
        var seen = Set<String>()
        retired = retired.reversed().filter { seen.insert($0).inserted }.reversed()
        retired = Array(retired.suffix(Self.retiredLimit))
        for topic in retired {
            send(OutboundMessage(topic: topic, payload: [], qos: .atLeastOnce, retain: true))
        }
        for message in messages {
            send(
                OutboundMessage(
                    topic: message.topic,
                    payload: Array(message.payload.utf8),
                    qos: .atLeastOnce,
                    retain: true
                )
            )
        }
        save(Record(announced: current, retired: retired))
        if !messages.isEmpty || !removed.isEmpty {
            logger.info(
                "home assistant discovery published",
                metadata: ["entities": "\(messages.count)", "removed": "\(removed.count)"]
            )
        }
        return removed
    }

    func load() -> Record {
        guard let bytes = try? FileSystem.readFile(path, limit: 1 << 20) else { return Record() }
        var record = Record()
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            if line.hasPrefix("announced ") {
                record.announced.append(String(line.dropFirst(10)))
            } else if line.hasPrefix("retired ") {
                record.retired.append(String(line.dropFirst(8)))
            }
        }
        return record
    }

    private func save(_ record: Record) {
        var text = ""
        for topic in record.announced { text += "announced \(topic)\n" }
        for topic in record.retired { text += "retired \(topic)\n" }
        do {
            try FileSystem.createDirectory(FileSystem.directoryName(of: path))
            try FileSystem.writeFileAtomically(path, Array(text.utf8))
        } catch {
            logger.warning(
                "home assistant discovery record not saved: \(error); a removal may be missed after a restart"
            )
        }
    }
}
