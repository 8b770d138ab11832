internal import Synchronization
public import TLS

/// Where the publisher connects and with which identity: read at every connection attempt, so a new
/// configuration or a renewed certificate takes effect at the next one.
public struct BrokerEndpoint: Sendable {
    public var host: String
    public var port: Int
    public var connectTimeout: Duration
    /// Trust anchors, policy and the device's certificate and key.
    public var tls: TLSContext

    public init(host: String, port: Int, connectTimeout: Duration, tls: TLSContext) {
        self.host = host
        self.port = port
        self.connectTimeout = connectTimeout
        self.tls = tls
    }
}

/// What other services may ask of a running publisher: reconnect now (with a new endpoint or identity), or
/// publish a message that is not a reading. Sendable; everything it does arrives as an input of the publisher's
/// one loop, in order with the rest.
public final class PublisherControl: Sendable {
    private let endpointStore: Mutex<BrokerEndpoint>
    let inputs: AsyncStream<ClientInput>
    private let continuation: AsyncStream<ClientInput>.Continuation
    /// Listeners of `connectionEvents()`, and the identity of the connection the broker accepted (nil while none).
    private let observers = Mutex<(next: Int, listeners: [Int: AsyncStream<PublisherConnectionEvent>.Continuation])>(
        (0, [:])
    )
    private let acceptedStore = Mutex<TLSContext?>(nil)

    init(endpoint: BrokerEndpoint) {
        endpointStore = Mutex(endpoint)
        (inputs, continuation) = AsyncStream.makeStream()
    }

    /// The endpoint the next connection attempt uses.
    public var endpoint: BrokerEndpoint { endpointStore.withLock { $0 } }

    /// Ends the current connection cleanly (the MQTT session is kept, no Will) and connects again at once with
    /// `endpoint`, e.g. after a certificate renewal or a configuration change. No reading is lost: they wait in
    /// the session and the spool meanwhile.
    public func reconnect(to endpoint: BrokerEndpoint? = nil, reason: String) {
        if let endpoint { endpointStore.withLock { $0 = endpoint } }
        continuation.yield(.reconnect(reason: reason))
    }

    /// Publishes the retained status message now (the `publish_status` command), if connected.
    public func publishStatus() {
        continuation.yield(.publishStatus)
    }

    func yield(_ input: ClientInput) {
        continuation.yield(input)
    }

    /// The identity of the connection the broker has accepted, or nil while the publisher is not connected.
    public var acceptedIdentity: TLSContext? { acceptedStore.withLock { $0 } }

    /// Every connection outcome from now on, for one listener (each call makes a new one); ends when the listener
    /// stops iterating.
    public func connectionEvents() -> AsyncStream<PublisherConnectionEvent> {
        let (stream, listener) = AsyncStream<PublisherConnectionEvent>.makeStream()
        let key = observers.withLock { state -> Int in
            state.next += 1
            state.listeners[state.next] = listener
            return state.next
        }
        listener.onTermination = { [weak self] _ in
            _ = self?.observers.withLock { $0.listeners.removeValue(forKey: key) }
        }
        return stream
    }

    func report(_ event: PublisherConnectionEvent) {
        if case .accepted(let tls) = event { acceptedStore.withLock { $0 = tls } }
        let listeners = observers.withLock { Array($0.listeners.values) }
        for listener in listeners { listener.yield(event) }
    }

    func reportDisconnected() {
        acceptedStore.withLock { $0 = nil }
    }
}
