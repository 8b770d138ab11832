internal import GPIO
internal import Logging
internal import MQTT
internal import Publisher
internal import Synchronization
internal import SystemExtras
internal import Timestamps

/// The output lines the agent drives: claimed at their safe state on start, then driven to their initial state;
/// switched by commands (with optional pulses); driven back to their safe state on SIGTERM before release. Each
/// state is published retained on `devices/<id>/outputs/<name>`.
actor OutputBank {
    private struct Channel {
        var output: AgentConfiguration.Output
        var line: any GPIOOutputLine
        var state: Bool
        /// Level changes made since the line was claimed.
        var transitions = 0
        /// Bumped by every change, so a pulse's end only reverts what its own command set.
        var generation = 0
        var pulse: Task<Void, Never>?
    }

    private let backend: any GPIOBackend
    private let topics: CommandTopics
    private let send: @Sendable (OutboundMessage) -> Void
    private let logger: Logger
    private var channels: [String: Channel] = [:]
    private var order: [String] = []
    /// Names and lines of the outputs held, readable without the actor (for `pinpost sim show`).
    nonisolated let directory = Mutex<[(name: String, address: LineAddress)]>([])

    init(
        backend: any GPIOBackend,
        topics: CommandTopics,
        logger: Logger,
        send: @escaping @Sendable (OutboundMessage) -> Void
    ) {
        self.backend = backend
        self.topics = topics
        self.logger = logger
        self.send = send
    }

    /// Claims every output at its safe state, then drives each to its initial state and publishes it. A line that
    /// cannot be claimed stops the start (the ones already claimed are released).
    func start(_ outputs: [AgentConfiguration.Output]) async throws(OutputStartupError) {
        let claimed = try await claim(outputs)
        for channel in claimed { install(channel) }
        for output in outputs { await settle(output.name, to: output.initial, cause: "initial") }
    }

    /// Applies a new list of outputs: unchanged ones keep their line and state; new and moved ones are claimed
    /// first (a failure changes nothing); removed and moved ones go to their safe state and are released, and a
    /// removed output's retained state is cleared. Returns the names that changed.
    func reconfigure(_ outputs: [AgentConfiguration.Output]) async throws(OutputStartupError) -> [String] {
        let current = channels
        func sameLine(_ old: AgentConfiguration.Output, _ new: AgentConfiguration.Output) -> Bool {
            old.address == new.address && old.activeLow == new.activeLow
        }
        let incoming = outputs.filter { output in
            guard let channel = current[output.name] else { return true }
            return !sameLine(channel.output, output)
        }
        // A line this agent holds already (an output moved between names, or re-claimed with another active_low)
        // must be released before it can be claimed again.
        let held = Set(current.values.map(\.output.address))
        let fresh = try await claim(incoming.filter { !held.contains($0.address) })
        let reclaim = incoming.filter { held.contains($0.address) }
        var changed = incoming.map(\.name)
        for name in order {
            guard let channel = current[name] else { continue }
            let next = outputs.first { $0.name == name }
            if let next, sameLine(channel.output, next) {
                channels[name]?.output = next  // initial/safe_state changes take effect at the next start
                continue
            }
            await retire(name)
            if next == nil {
                changed.append(name)
                send(OutboundMessage(topic: topics.output(name), payload: [], qos: .atLeastOnce, retain: true))
            }
        }
        for channel in fresh { install(channel) }
        for output in reclaim {
            do {
                for channel in try await claim([output]) { install(channel) }
            } catch {
                logger.error("output not reclaimed after the configuration change: \(error)")
                continue
            }
        }
        order = outputs.map(\.name).filter { channels[$0] != nil }
        publishDirectory()
        for output in incoming where channels[output.name] != nil {
            await settle(output.name, to: output.initial, cause: "initial")
        }
        return changed
    }

    /// Switches an output (the `set_output` command); with `pulse`, the previous state returns after that long
    /// unless another command changes the output first.
    func set(
        _ name: String,
        to value: CommandRequest.OutputValue,
        pulse: Duration?
    ) async throws(CommandError) -> CommandReply.Fields {
        guard let channel = channels[name] else {
            throw CommandError(
                .unknownOutput,
                field: "output",
                "no output named '\(name.prefix(64))'; outputs: \(order.isEmpty ? "none configured" : order.joined(separator: ", "))"
            )
        }
        let previous = channel.state
        let target: Bool =
            switch value {
            case .on: true
            case .off: false
            case .toggle: !previous
            }
        channels[name]?.pulse?.cancel()
        channels[name]?.pulse = nil
        do {
            try await drive(name, to: target, cause: "command")
        } catch {
            throw CommandError(.gpioFailed, field: "output", "output '\(name)': \(error)")
        }
        var fields = [
            ReplyField("output", .string(name)),
            ReplyField("state", .string(target ? "on" : "off")),
            ReplyField("previous", .string(previous ? "on" : "off")),
            ReplyField("transitions", .integer(Int64(channels[name]?.transitions ?? 0))),
        ]
        if let pulse {
            let generation = channels[name]?.generation ?? 0
            channels[name]?.pulse = Task { [weak self] in
                guard (try? await Task.sleep(for: pulse)) != nil else { return }
                await self?.endPulse(name, generation: generation, back: previous)
            }
            fields.append(ReplyField("pulse", .string(DurationText.format(pulse))))
        }
        return fields
    }

    /// Drives every output to its safe state, publishes it and releases the lines (SIGTERM).
    func shutDown() async {
        for name in order { await retire(name) }
        order = []
        publishDirectory()
    }

    /// Names of the outputs held, in config order.
    var names: [String] { order }

    // MARK: Lines

    private func claim(_ outputs: [AgentConfiguration.Output]) async throws(OutputStartupError) -> [Channel] {
        var claimed: [Channel] = []
        for output in outputs {
            do {
                let line = try await backend.requestOutput(
                    OutputLineRequest(
                        address: output.address,
                        initialValue: output.safeState,
                        activeLow: output.activeLow
                    )
                )
                claimed.append(Channel(output: output, line: line, state: output.safeState))
            } catch {
                for channel in claimed { await channel.line.release() }
                throw OutputStartupError(message: "output '\(output.name)': \(error)")
            }
        }
        return claimed
    }

    private func install(_ channel: Channel) {
        channels[channel.output.name] = channel
        if !order.contains(channel.output.name) { order.append(channel.output.name) }
        publishDirectory()
        logger.info(
            "output claimed",
            metadata: [
                "output": "\(channel.output.name)", "line": "\(channel.output.address)",
                "state": "\(channel.state ? "on" : "off")",
            ]
        )
    }

    /// Safe state, published, released, forgotten.
    private func retire(_ name: String) async {
        guard let channel = channels[name] else { return }
        channel.pulse?.cancel()
        await settle(name, to: channel.output.safeState, cause: "safe_state")
        await channel.line.release()
        channels[name] = nil
        order.removeAll { $0 == name }
    }

    /// Drives and publishes, logging a failure instead of throwing (start, pulse end, shutdown).
    private func settle(_ name: String, to value: Bool, cause: String) async {
        do {
            try await drive(name, to: value, cause: cause)
        } catch {
            logger.error(
                "output not driven",
                metadata: ["output": "\(name)", "cause": "\(cause)", "reason": "\(error)"]
            )
            publishState(name, cause: cause)
        }
    }

    private func drive(_ name: String, to value: Bool, cause: String) async throws(GPIOError) {
        guard let channel = channels[name] else { return }
        try await channel.line.set(value)
        channels[name]?.generation += 1
        if channel.state != value {
            channels[name]?.state = value
            channels[name]?.transitions += 1
        }
        publishState(name, cause: cause)
        logger.debug(
            "output set",
            metadata: ["output": "\(name)", "state": "\(value ? "on" : "off")", "cause": "\(cause)"]
        )
    }

    private func endPulse(_ name: String, generation: Int, back value: Bool) async {
        guard let channel = channels[name], channel.generation == generation else { return }
        channels[name]?.pulse = nil
        await settle(name, to: value, cause: "pulse_end")
    }

    /// `{"output":"relay","state":"on","transitions":3,"cause":"command","ts":"..."}`, retained at QoS 1.
    private func publishState(_ name: String, cause: String) {
        guard let channel = channels[name] else { return }
        var writer = JSONObjectWriter()
        writer.string("output", name)
        writer.string("state", channel.state ? "on" : "off")
        writer.integer("transitions", channel.transitions)
        writer.string("cause", cause)
        writer.string("ts", UTCTime.now().rfc3339)
        send(OutboundMessage(topic: topics.output(name), payload: writer.bytes, qos: .atLeastOnce, retain: true))
    }

    private func publishDirectory() {
        let entries = order.compactMap { name in channels[name].map { (name, $0.output.address) } }
        directory.withLock { $0 = entries }
    }
}

/// An output line could not be claimed; names the output, the line and the holder.
public struct OutputStartupError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
