/// `[renewal]`: the device renews its own certificate over MQTT before it expires, and a board that leaves the
/// factory with a shared claim certificate obtains its own identity the same way. Absent: no renewal, no claim.
extension AgentConfiguration {
    public struct Renewal: Sendable, Equatable {
        /// Renew when the device certificate has less than this left (`renewal.renew_before`).
        public var renewBefore: Duration
        /// Where the certificate request goes (`{id}` = device id); answers come on `<topic>/accepted` and
        /// `<topic>/rejected`, as with AWS IoT Core's `$aws/certificates/create-from-csr/json`.
        public var topic: String
        /// Where the device says it connected with its new certificate, so the CA revokes the old one; nil: never
        /// (AWS IoT Core has no such topic).
        public var activatedTopic: String?
        /// Folder of renewed identities and the swap's state (inside `spool.dir` by default: the agent may write it
        /// under the service's sandbox, `/etc/pinpost` it may not).
        public var directory: String
        /// Trust anchors an issued certificate must chain to (default `tls.ca_file`).
        public var caFile: String
        /// How long to wait for the CA's answer.
        public var answerTimeout: Duration
        /// How long the broker has to accept the new identity before the agent rolls back to the old one.
        public var acceptTimeout: Duration
        /// How long to wait after a failed renewal before the next automatic attempt.
        public var retryAfter: Duration
        /// AWS IoT fleet provisioning template: after an accepted answer, RegisterThing activates the certificate.
        public var awsProvisioningTemplate: String?
        /// A claim identity, for a board that has no identity of its own yet.
        public var claim: Claim?

        public struct Claim: Sendable, Equatable {
            public var certFile: String
            public var keyFile: String
            /// Where a claim's request goes (`{claim}` = the claim certificate's CN, `{id}` = device id).
            public var topic: String
        }

        public static let defaultTopic = "pinpost/certificates/{id}/create-from-csr/json"
        public static let defaultActivatedTopic = "pinpost/certificates/{id}/activated"
        public static let defaultClaimTopic = "pinpost/claim/{claim}/{id}/create-from-csr/json"

        /// A topic template with `{id}` (and `{claim}`) replaced.
        public static func resolve(_ template: String, id: String, claim: String = "") -> String {
            template.replacing("{id}", with: id).replacing("{claim}", with: claim)
        }
    }
}
