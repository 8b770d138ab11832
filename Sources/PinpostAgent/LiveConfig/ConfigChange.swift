/// What a new configuration changes, sorted by what it takes to apply: live (outputs, Home Assistant, how
/// `apply_config` may be used), a reconnect (where the broker is and the TLS identity and policy), or a restart
/// (everything else: the device id, the spool, the sensors, the MQTT session's settings, ...).
struct ConfigChange: Sendable, Equatable {
    /// Keys (or sections) that apply at once.
    var live: [String] = []
    /// Keys that apply by ending the connection cleanly and connecting again (no reading is lost).
    var reconnect: [String] = []
    /// Keys that only a restart of the agent applies: such a configuration is refused while running.
    var restart: [String] = []

    var isEmpty: Bool { live.isEmpty && reconnect.isEmpty && restart.isEmpty }

    init(from old: AgentConfiguration, to new: AgentConfiguration) {
        func compare<T: Equatable>(_ key: String, _ path: KeyPath<AgentConfiguration, T>, into list: inout [String]) {
            if old[keyPath: path] != new[keyPath: path] { list.append(key) }
        }
        compare("[[output]]", \.outputs, into: &live)
        compare("[homeassistant]", \.homeAssistant, into: &live)
        compare("commands.apply_config", \.commands.applyConfig, into: &live)

        compare("broker.host", \.broker.host, into: &reconnect)
        compare("broker.port", \.broker.port, into: &reconnect)
        compare("broker.connect_timeout", \.broker.connectTimeout, into: &reconnect)
        compare("[tls]", \.tls, into: &reconnect)

        compare("device.id", \.device.id, into: &restart)
        compare("broker.protocol", \.broker.protocolVersion, into: &restart)
        compare("broker.keepalive", \.broker.keepAlive, into: &restart)
        compare("broker.session_expiry", \.broker.sessionExpiry, into: &restart)
        compare("broker.username", \.broker.username, into: &restart)
        compare("broker.password_file", \.broker.passwordFile, into: &restart)
        compare("broker.max_inflight", \.broker.maxInflight, into: &restart)
        compare("broker.topic_aliases", \.broker.topicAliases, into: &restart)
        compare("broker.qos_above_maximum", \.broker.qosAboveMaximum, into: &restart)
        compare("[time]", \.time, into: &restart)
        compare("[spool]", \.spool, into: &restart)
        compare("[backoff]", \.reconnect, into: &restart)
        compare("status.interval", \.statusInterval, into: &restart)
        compare("gpio.backend", \.backend, into: &restart)
        compare("[gpio]", \.gpio, into: &restart)
        compare("[[sensor]]", \.sensors, into: &restart)
        compare("commands.enabled", \.commands.enabled, into: &restart)
        compare("commands.remember", \.commands.remember, into: &restart)
        compare("[signing]", \.signing, into: &restart)
        compare("[renewal]", \.renewal, into: &restart)

        // Keys this list does not know yet (added with other features) count as needing a restart: with every key
        // above made equal, anything still different is one of them. Broker keys one by one, so a broker key added
        // later is caught here too.
        var rest = new
        rest.file = old.file
        rest.device.id = old.device.id
        rest.broker.host = old.broker.host
        rest.broker.port = old.broker.port
        rest.broker.protocolVersion = old.broker.protocolVersion
        rest.broker.keepAlive = old.broker.keepAlive
        rest.broker.sessionExpiry = old.broker.sessionExpiry
        rest.broker.connectTimeout = old.broker.connectTimeout
        rest.broker.username = old.broker.username
        rest.broker.passwordFile = old.broker.passwordFile
        rest.broker.maxInflight = old.broker.maxInflight
        rest.broker.topicAliases = old.broker.topicAliases
        rest.broker.qosAboveMaximum = old.broker.qosAboveMaximum
        rest.tls = old.tls
        rest.time = old.time
        rest.spool = old.spool
        rest.reconnect = old.reconnect
        rest.statusInterval = old.statusInterval
        rest.backend = old.backend
        rest.gpio = old.gpio
        rest.sensors = old.sensors
        rest.outputs = old.outputs
        rest.commands.enabled = old.commands.enabled
        rest.commands.applyConfig = old.commands.applyConfig
        rest.commands.remember = old.commands.remember
        rest.homeAssistant = old.homeAssistant
        rest.signing = old.signing
        rest.renewal = old.renewal
        if rest != old { restart.append("other keys") }
    }
}
