/// The part of a client session that must survive a restart to keep QoS 1/2 promises: unacknowledged
/// outgoing messages (with their packet identifiers and handshake phase), queued QoS 1/2 messages and incoming
/// QoS 2 identifiers still awaiting PUBREL. A spool can store it and hand it to `ClientSession(configuration:restoring:)`.
public struct SessionSnapshot: Sendable, Equatable {
    /// An application message as handed to `publish`.
    public struct Message: Sendable, Equatable {
        public var topic: String
        public var payload: [UInt8]
        public var qos: QoS
        public var retain: Bool
        public var properties: PublishProperties
        /// The caller's opaque identifier, reported back in `delivered`/`deliveryFailed`.
        public var tag: UInt64

        public init(
            topic: String,
            payload: [UInt8],
            qos: QoS,
            retain: Bool,
            properties: PublishProperties = PublishProperties(),
            tag: UInt64
        ) {
            self.topic = topic
            self.payload = payload
            self.qos = qos
            self.retain = retain
            self.properties = properties
            self.tag = tag
        }
    }

    /// Where an outgoing QoS 1/2 message is in its handshake.
    public enum Phase: Sendable, Equatable {
        /// PUBLISH sent; waiting for PUBACK (QoS 1) or PUBREC (QoS 2). Resent as PUBLISH with DUP=1.
        case awaitingAcknowledgement
        /// PUBREC received and PUBREL sent; waiting for PUBCOMP. Only PUBREL is ever resent [MQTT-4.3.3-6].
        case awaitingCompletion
    }

    /// An outgoing message that has a packet identifier and has been sent at least once.
    public struct InFlight: Sendable, Equatable {
        public var packetID: UInt16
        public var phase: Phase
        public var message: Message

        public init(packetID: UInt16, phase: Phase, message: Message) {
            self.packetID = packetID
            self.phase = phase
            self.message = message
        }
    }

    /// Effective client identifier (including one assigned by the server), needed to resume the session.
    public var clientID: String
    /// In original send order, which is the resend order [MQTT-4.6.0-1].
    public var inFlight: [InFlight]
    /// QoS 1/2 messages not yet sent, FIFO. QoS 0 messages are never persisted.
    public var queued: [Message]
    /// Identifiers of incoming QoS 2 messages already delivered to the application but not yet released.
    public var incomingQoS2PacketIDs: [UInt16]
    /// Where packet identifier allocation resumes.
    public var nextPacketID: UInt16

    public init(
        clientID: String,
        inFlight: [InFlight] = [],
        queued: [Message] = [],
        incomingQoS2PacketIDs: [UInt16] = [],
        nextPacketID: UInt16 = 1
    ) {
        self.clientID = clientID
        self.inFlight = inFlight
        self.queued = queued
        self.incomingQoS2PacketIDs = incomingQoS2PacketIDs
        self.nextPacketID = nextPacketID
    }
}
