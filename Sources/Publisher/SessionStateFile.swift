public import DurableSpool
public import MQTT

/// The MQTT session's own state, kept beside the spool so a restarted agent resumes the broker's
/// session instead of pretending to be new: in-flight packet identifiers with their QoS 2 phase
/// (resent with DUP=1 and the same ids, PUBREL for those past PUBREC [MQTT-4.4.0-1]), incoming
/// QoS 2 ids awaiting PUBREL, and where id allocation resumes.
///
/// Message bodies are not stored twice: each in-flight entry names its reading's `seq`, and the
/// body comes back from the spool. The file's existence says "this client holds session state",
/// which MQTT 5 requires before it may accept Session Present=1 [MQTT-3.2.2-4].
public struct SessionStateFile: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var packetID: UInt16
        public var qos: QoS
        public var phase: SessionSnapshot.Phase
        public var seq: UInt64

        public init(packetID: UInt16, qos: QoS, phase: SessionSnapshot.Phase, seq: UInt64) {
            self.packetID = packetID
            self.qos = qos
            self.phase = phase
            self.seq = seq
        }
    }

    public var clientID: String
    public var inFlight: [Entry]
    public var incomingQoS2PacketIDs: [UInt16]
    public var nextPacketID: UInt16

    /// Where the file lives: beside the spool's segments, since the two are only meaningful together.
    public static func path(inSpoolFolder folder: String) -> String { folder + "/session" }

    /// The persistable part of a snapshot; messages that are not readings (status messages) are left out.
    public init(snapshot: SessionSnapshot, isReading: (UInt64) -> Bool) {
        clientID = snapshot.clientID
        inFlight = snapshot.inFlight.compactMap { entry in
            guard isReading(entry.message.tag) else { return nil }
            return Entry(packetID: entry.packetID, qos: entry.message.qos, phase: entry.phase, seq: entry.message.tag)
        }
        incomingQoS2PacketIDs = snapshot.incomingQoS2PacketIDs
        nextPacketID = snapshot.nextPacketID
    }

    public init(clientID: String, inFlight: [Entry], incomingQoS2PacketIDs: [UInt16], nextPacketID: UInt16) {
        self.clientID = clientID
        self.inFlight = inFlight
        self.incomingQoS2PacketIDs = incomingQoS2PacketIDs
        self.nextPacketID = nextPacketID
    }

    public func encoded() -> [UInt8] {
        var text = "pinpost-session 1\nclient_id \(clientID)\nnext \(nextPacketID)\n"
        for id in incomingQoS2PacketIDs {
            text += "incoming \(id)\n"
        }
        for entry in inFlight {
            text +=
                "inflight \(entry.packetID) \(entry.qos.rawValue) \(entry.phase == .awaitingCompletion ? "C" : "A") \(entry.seq)\n"
        }
        text += "end\n"
        return Array(text.utf8)
    }

    /// nil for damaged content: the agent then starts without session state (MQTT 5 brokers are
    /// told Clean Start=1 after they claim a session), and the spool still has every reading.
    public static func decode(_ bytes: [UInt8]) -> SessionStateFile? {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
        guard lines.first == "pinpost-session 1", lines.last == "end" else { return nil }
        var state = SessionStateFile(clientID: "", inFlight: [], incomingQoS2PacketIDs: [], nextPacketID: 1)
        for line in lines.dropFirst().dropLast() {
            let parts = line.split(separator: " ").map(String.init)
            switch parts.first {
            case "client_id" where parts.count == 2:
                state.clientID = parts[1]
            case "next" where parts.count == 2:
                guard let next = UInt16(parts[1]), next != 0 else { return nil }
                state.nextPacketID = next
            case "incoming" where parts.count == 2:
                guard let id = UInt16(parts[1]), id != 0 else { return nil }
                state.incomingQoS2PacketIDs.append(id)
            case "inflight" where parts.count == 5:
                guard let id = UInt16(parts[1]), id != 0, let qosValue = UInt8(parts[2]),
                    let qos = QoS(rawValue: qosValue), qos != .atMostOnce,
                    parts[3] == "A" || parts[3] == "C", let seq = UInt64(parts[4])
                else { return nil }
                state.inFlight.append(
                    Entry(
                        packetID: id,
                        qos: qos,
                        phase: parts[3] == "C" ? .awaitingCompletion : .awaitingAcknowledgement,
                        seq: seq
                    )
                )
            default:
                return nil
            }
        }
        return state.clientID.isEmpty ? nil : state
    }

    /// Rebuilds a snapshot with bodies from the spool. An entry whose reading is gone is dropped
    /// unless it is past PUBREC, where only the id matters (the PUBLISH is never sent again).
    public func snapshot(records: [UInt64: SpoolRecord]) -> SessionSnapshot {
        let inFlight: [SessionSnapshot.InFlight] = self.inFlight.compactMap { entry in
            if let record = records[entry.seq] {
                let message = SessionSnapshot.Message(
                    topic: record.topic,
                    payload: record.payload,
                    qos: entry.qos,
                    retain: false,
                    properties: record.publishProperties,
                    tag: entry.seq
                )
                return SessionSnapshot.InFlight(packetID: entry.packetID, phase: entry.phase, message: message)
            }
            guard entry.phase == .awaitingCompletion else { return nil }
            let placeholder = SessionSnapshot.Message(
                topic: "-",
                payload: [],
                qos: entry.qos,
                retain: false,
                tag: entry.seq
            )
            return SessionSnapshot.InFlight(packetID: entry.packetID, phase: entry.phase, message: placeholder)
        }
        return SessionSnapshot(
            clientID: clientID,
            inFlight: inFlight,
            incomingQoS2PacketIDs: incomingQoS2PacketIDs,
            nextPacketID: nextPacketID
        )
    }
}
