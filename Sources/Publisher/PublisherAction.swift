public import MQTT

/// What the driver must do after feeding the publisher an input, in order.
///
/// Two actions are requests the driver answers at once, before the next input: `takeReadings` (answer
/// with `readingsTaken`) and `makeStatus` (answer with `statusMade`). Their answers may add actions;
/// the driver appends them after the ones it already holds, so bytes leave in the order the MQTT
/// session produced them.
public enum PublisherAction: Sendable, Equatable {
    /// Open TCP and TLS to the broker; report `connectionEstablished` or `connectionFailed`.
    case connect
    /// Write these bytes to the current connection (not yet flushed).
    case write([UInt8])
    /// Send what was written: once per burst, so a burst leaves together.
    case flush
    /// Close the current connection; its own close report is stale from now on.
    case closeConnection
    /// Call `retryTimerFired(token:now:)` after this delay.
    case startRetryTimer(after: Duration, token: Int)
    /// Take up to `limit` unsent readings from the spool and answer with `readingsTaken`.
    case takeReadings(limit: Int)
    /// More readings are waiting and the session has room: call `resume(now:)` after the inputs already queued,
    /// so the bytes written so far leave and the connection's writability is heard first.
    case resumeLater
    /// Build the status payload (with the spool's figures) and answer with `statusMade`.
    case makeStatus(StatusRequest)
    /// The broker acknowledged this reading: it is done.
    case acknowledge(seq: UInt64)
    /// The broker finally refused this reading (or it could not be published): it is done, counted as rejected.
    case reject(seq: UInt64)
    /// Force appended readings to storage and persist acknowledgements.
    case checkpointSpool
    /// Persist the MQTT session state (the driver may skip an unchanged file).
    case saveSession(SessionStateFile)
    /// An application message from the broker (a command, say); QoS 2 messages arrive once.
    case messageReceived(PublishPacket)
    /// A message given to `publish(_:now:)` reached its final state: acknowledged (`delivered`), or refused or
    /// lost with its connection at QoS 0.
    case messageSettled(id: UInt64, delivered: Bool)
    /// Tell the service manager.
    case notify([ServiceNotification])
    case log(PublisherLogEntry)
    /// Shutdown is complete: wait for the last connection's close, then return. `disconnected`: the broker got
    /// a DISCONNECT (false: the agent was not connected when it stopped).
    case finished(disconnected: Bool)
}

/// What the status message should say; the driver adds the spool's figures and the wall-clock time.
public struct StatusRequest: Sendable, Equatable {
    /// `"online"` or `"offline"`.
    public var state: String
    public var reconnects: Int
    public var lastDisconnect: String?

    public init(state: String, reconnects: Int, lastDisconnect: String?) {
        self.state = state
        self.reconnects = reconnects
        self.lastDisconnect = lastDisconnect
    }
}

/// A message for systemd (`sd_notify`). READY is not the publisher's: the service sends it at start-up,
/// before waiting for the clock, so a board without time still finishes booting.
public enum ServiceNotification: Sendable, Equatable {
    /// One line for `systemctl status`.
    case status(String)
    /// The publisher is alive.
    case watchdog
}

/// A log line the publisher wants written; the driver maps it onto its logger.
public struct PublisherLogEntry: Sendable, Equatable {
    public enum Level: Sendable, Equatable {
        case debug, info, notice, warning, error
    }

    public var level: Level
    public var message: String
    public var metadata: [String: String]

    public init(_ level: Level, _ message: String, _ metadata: [String: String] = [:]) {
        self.level = level
        self.message = message
        self.metadata = metadata
    }
}

/// A message the agent sends besides readings and its status (a command's reply, an output's state). It goes
/// through the same MQTT session, in order with everything else, but not through the spool: it is not kept
/// across restarts.
public struct OutboundMessage: Sendable, Equatable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: QoS
    public var retain: Bool
    /// MQTT 5 properties (Response Topic, Correlation Data, Message Expiry, user properties).
    public var properties: PublishProperties
    /// The caller's identifier, reported back in `messageSettled`.
    public var id: UInt64

    public init(
        topic: String,
        payload: [UInt8],
        qos: QoS = .atLeastOnce,
        retain: Bool = false,
        properties: PublishProperties = PublishProperties(),
        id: UInt64 = 0
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
        self.id = id
    }
}
