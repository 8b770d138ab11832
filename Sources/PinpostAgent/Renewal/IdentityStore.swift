internal import SystemExtras
internal import SystemPackage

/// Where renewed identities live and which one is in use: `renewal.dir` holds one folder per generation (`g1`,
/// `g2`, ...: `device.crt` and `device.key`, or `key.uri` for a key on a PKCS#11 token) and a `state` file, replaced
/// atomically, naming the active generation and the one on trial.
///
/// Every step of a swap leaves a state from which the next start connects: a key without a certificate (`pending/`)
/// and a generation no state names are removed at start; a generation on trial is tried first at the next start and
/// falls back to the active one if the broker refuses it. The configured identity (`tls.cert_file`, `tls.key_file`)
/// is generation zero, used while the store names no active generation.
public struct IdentityStore: Sendable {
    /// One identity the store holds.
    public struct Generation: Sendable, Equatable {
        public var name: String
        public var certFile: String
        /// A PEM file path or a `pkcs11:` URI.
        public var keyFile: String
    }

    /// The `state` file.
    public struct State: Sendable, Equatable {
        /// The generation in use (nil: the configured identity).
        public var active: String?
        /// A generation being tried: connected with once, not yet accepted by the broker.
        public var trial: String?
        /// A generation in use whose activation the CA has not been told of yet (it revokes the old certificate then).
        public var unconfirmed: String?
        /// SHA-256 fingerprint of the configured certificate the store's generations replace: when an operator
        /// installs another identity there, the store's generations are outdated and dropped.
        public var base: String?

        public init(active: String? = nil, trial: String? = nil, unconfirmed: String? = nil, base: String? = nil) {
            self.active = active
            self.trial = trial
            self.unconfirmed = unconfirmed
            self.base = base
        }
    }

    /// Which identity a start uses.
    public enum Selection: Sendable, Equatable {
        case configured
        case active(Generation)
        /// On trial; `previous` is what to fall back to (nil: the configured identity).
        case trial(Generation, previous: Generation?)
    }

    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    var statePath: String { directory + "/state" }
    var pendingFolder: String { directory + "/pending" }
    /// The unix socket on which `pinpost renew` asks the running agent to renew now.
    public var controlSocket: String { directory + "/control.sock" }

    /// The store's folder, private to the agent (0700).
    func prepare() throws(SystemError) {
        try FileSystem.createDirectory(directory, permissions: .ownerReadWriteExecute)
        try FileSystem.setPermissions(directory, .ownerReadWriteExecute)
    }

    // MARK: State

    public func load() -> State {
        guard let bytes = try? FileSystem.readFile(statePath, limit: 4096), let json = (try? JSONValue.parse(bytes))
        else {
            return State()
        }
        return State(
            active: json["active"]?.string,
            trial: json["trial"]?.string,
            unconfirmed: json["unconfirmed"]?.string,
            base: json["base"]?.string
        )
    }

    func save(_ state: State) throws(SystemError) {
        let text = JSONValue.object([
            ("active", state.active), ("trial", state.trial), ("unconfirmed", state.unconfirmed), ("base", state.base),
        ])
        try FileSystem.writeFileAtomically(statePath, Array((text + "\n").utf8))
    }

    /// The generation `name`, when its files are there.
    public func generation(_ name: String) -> Generation? {
        let folder = directory + "/" + name
        let certFile = folder + "/device.crt"
        guard FileSystem.exists(certFile) else { return nil }
        if FileSystem.exists(folder + "/device.key") {
            return Generation(name: name, certFile: certFile, keyFile: folder + "/device.key")
        }
        if let bytes = try? FileSystem.readFile(folder + "/key.uri", limit: 4096) {
            let uri = String(decoding: bytes, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
            if uri.hasPrefix("pkcs11:") { return Generation(name: name, certFile: certFile, keyFile: uri) }
        }
        return nil
    }

    // MARK: Start

    /// Brings the store to a state the agent can start from, and says which identity to use: removes a key that
    /// never got its certificate and generations no state names, forgets a trial or active generation whose files
    /// are gone, and drops every generation when the configured certificate is not the one they replaced (an
    /// operator installed a new identity). Returns what it did, for the log.
    public func recover(configuredFingerprint: String?) -> (Selection, notes: [String]) {
        var notes: [String] = []
        var state = load()
        let original = state
        if FileSystem.exists(pendingFolder) {
            removeFolder(pendingFolder)
            notes.append("removed a key whose certificate never arrived (a renewal was interrupted)")
        }
        if let base = state.base, let configuredFingerprint, base != configuredFingerprint {
            notes.append(
                "the configured certificate changed since the last renewal; using it and dropping the renewed identities"
            )
            state = State()
        }
        if let trial = state.trial, generation(trial) == nil {
            notes.append("generation \(trial) on trial is incomplete; dropped")
            state.trial = nil
        }
        if let active = state.active, generation(active) == nil {
            notes.append("active generation \(active) is missing; falling back to the configured identity")
            state.active = nil
            state.unconfirmed = nil
        }
        if state != original {
            try? save(state)
        }
        let keep = Set([state.active, state.trial].compactMap { $0 })
        for name in FileSystem.listDirectory(directory) where Self.isGenerationName(name) && !keep.contains(name) {
            removeFolder(directory + "/" + name)
            notes.append("removed generation \(name), which no state names")
        }
        if let trial = state.trial.flatMap(generation) {
            return (.trial(trial, previous: state.active.flatMap(generation)), notes)
        }
        if let active = state.active.flatMap(generation) {
            return (.active(active), notes)
        }
        return (.configured, notes)
    }

    /// The identity the next start would use, without changing anything (`pinpost check`): the generation on trial,
    /// else the active one, else the configured identity.
    public static func identityInUse(_ configuration: AgentConfiguration) -> AgentConfiguration {
        guard let renewal = configuration.renewal else { return configuration }
        let store = IdentityStore(directory: renewal.directory)
        let state = store.load()
        let configured = RenewalService.fingerprint(ofCertificateFile: configuration.tls.certFile)
        if let base = state.base, let configured, base != configured { return configuration }
        return applying(
            state.trial.flatMap(store.generation) ?? state.active.flatMap(store.generation),
            to: configuration
        )
    }

    /// `configuration` with `tls.cert_file` and `tls.key_file` pointing at the generation in use.
    public static func applying(_ generation: Generation?, to configuration: AgentConfiguration) -> AgentConfiguration {
        guard let generation else { return configuration }
        var effective = configuration
        effective.tls.certFile = generation.certFile
        effective.tls.keyFile = generation.keyFile
        return effective
    }

    // MARK: The swap

    /// An empty `pending/` folder (0700) for the new key.
    func makePending() throws(SystemError) -> String {
        try prepare()
        removeFolder(pendingFolder)
        try FileSystem.createDirectory(pendingFolder, permissions: .ownerReadWriteExecute)
        return pendingFolder
    }

    /// Forgets a key whose request failed.
    func discardPending() {
        removeFolder(pendingFolder)
    }

    /// `pending/` becomes the next generation (rename, then the folder is synced).
    func promotePending() throws(SystemError) -> Generation {
        let taken = FileSystem.listDirectory(directory).compactMap(Self.generationNumber)
        let name = "g\((taken.max() ?? 0) + 1)"
        try FileSystem.renameAtomically(pendingFolder, to: directory + "/" + name)
        try FileSystem.syncDirectory(directory)
        guard let made = generation(name) else {
            throw SystemError(.noSuchFileOrDirectory, "a new generation lacks its certificate or key", path: name)
        }
        return made
    }

    /// Records `generation` as on trial: from now on a start tries it first.
    func beginTrial(_ generation: Generation, configuredFingerprint: String?) throws(SystemError) {
        var state = load()
        state.trial = generation.name
        if state.active == nil { state.base = configuredFingerprint ?? state.base }
        try save(state)
    }

    /// The broker accepted `generation`: it becomes the active one. Returns the one it replaced (nil: configured).
    @discardableResult
    func commit(_ generation: Generation) throws(SystemError) -> Generation? {
        var state = load()
        let previous = state.active.flatMap(self.generation)
        state.active = generation.name
        state.trial = nil
        state.unconfirmed = generation.name
        try save(state)
        return previous
    }

    /// The broker refused `generation` (or it could not be used): forget it, the active one stays.
    func rollback(_ generation: Generation) throws(SystemError) {
        var state = load()
        if state.trial == generation.name { state.trial = nil }
        try save(state)
        remove(generation)
    }

    /// The CA has been told that `name` is in use.
    func confirmed(_ name: String) {
        var state = load()
        guard state.unconfirmed == name else { return }
        state.unconfirmed = nil
        try? save(state)
    }

    /// Removes a generation's files; a key file is overwritten first (see `pinpost decommission` for what that
    /// cannot guarantee on flash).
    func remove(_ generation: Generation) {
        removeFolder(directory + "/" + generation.name)
    }

    private func removeFolder(_ folder: String) {
        for name in FileSystem.listDirectory(folder) {
            let path = folder + "/" + name
            if name.hasSuffix(".key") { Self.overwrite(path) }
            FileSystem.remove(path)
        }
        try? FileSystem.removeDirectory(folder)
        try? FileSystem.syncDirectory(directory)
    }

    private static func overwrite(_ path: String) {
        guard let size = try? FileSystem.readFile(path, limit: 1 << 20).count, size > 0 else { return }
        var noise = [UInt8](repeating: 0, count: size)
        guard (try? SecureRandom.fill(&noise, count: size)) != nil,
            let descriptor = try? FileSystem.open(path, .writeOnly, options: [.noFollow])
        else { return }
        _ = try? descriptor.writeAll(noise)
        try? descriptor.sync()
        try? descriptor.close()
    }

    static func isGenerationName(_ name: String) -> Bool {
        generationNumber(name) != nil
    }

    static func generationNumber(_ name: String) -> Int? {
        guard name.hasPrefix("g") else { return nil }
        return Int(name.dropFirst())
    }
}
