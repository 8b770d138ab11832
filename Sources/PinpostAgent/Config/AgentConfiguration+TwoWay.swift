public import GPIO

extension AgentConfiguration {
    /// An `[[output]]`: a GPIO line the agent drives (a relay, a LED, a valve), switched by commands.
    public struct Output: Sendable, Equatable {
        /// Topic level (`devices/<id>/outputs/<name>`) and the name commands use.
        public var name: String
        public var address: LineAddress
        public var activeLow: Bool
        /// The state taken once the agent runs (after `safeState`, which the line is claimed at).
        public var initial: Bool
        /// The state the line is claimed at on start and driven to on SIGTERM before it is released.
        public var safeState: Bool

        public init(name: String, address: LineAddress, activeLow: Bool = false, initial: Bool, safeState: Bool) {
            self.name = name
            self.address = address
            self.activeLow = activeLow
            self.initial = initial
            self.safeState = safeState
        }
    }

    /// `[commands]`: whether the agent listens on `devices/<id>/commands/#` and what `apply_config` may do.
    public struct Commands: Sendable, Equatable {
        /// What the `apply_config` command may do.
        public enum ApplyConfig: String, Sendable, Equatable, CaseIterable {
            /// Refused.
            case off
            /// Reloads the config file from disk, as SIGHUP does.
            case reload
            /// May also carry a new config text, which replaces the file (atomically) once it validates.
            case replace
        }

        public var enabled: Bool
        public var applyConfig: ApplyConfig
        /// How many command ids are remembered (in `spool.dir/commands/seen`) to apply each at most once.
        public var remember: Int

        public init(enabled: Bool = true, applyConfig: ApplyConfig = .reload, remember: Int = 512) {
            self.enabled = enabled
            self.applyConfig = applyConfig
            self.remember = remember
        }
    }

    /// `[homeassistant]`: announce sensors and outputs through Home Assistant's MQTT discovery.
    public struct HomeAssistant: Sendable, Equatable {
        public var enabled: Bool
        /// Home Assistant's discovery prefix (its default is `homeassistant`).
        public var prefix: String
        /// The device's model as Home Assistant shows it.
        public var model: String

        public init(enabled: Bool = false, prefix: String = "homeassistant", model: String = "Pinpost agent") {
            self.enabled = enabled
            self.prefix = prefix
            self.model = model
        }
    }
}
