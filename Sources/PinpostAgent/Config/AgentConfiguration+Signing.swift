extension AgentConfiguration {
    /// `[signing]`: readings signed with the device key (JWS ES256), chained, optionally encrypted to an operator.
    public struct Signing: Sendable, Equatable {
        public var enabled: Bool
        /// Sign one reading in this many (1: every reading; more: chain-head signatures, the others covered by the
        /// hash chain).
        public var signEvery: Int
        /// With `signEvery` > 1: sign a reading anyway when this long passed since the last signature.
        public var signInterval: Duration
        /// PEM public key (or certificate) of the operator: readings are then encrypted to it (JWE).
        public var encryptTo: String?

        public init(
            enabled: Bool = false,
            signEvery: Int = 1,
            signInterval: Duration = .seconds(1),
            encryptTo: String? = nil
        ) {
            self.enabled = enabled
            self.signEvery = signEvery
            self.signInterval = signInterval
            self.encryptTo = encryptTo
        }
    }
}
