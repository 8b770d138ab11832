internal import SystemExtras

extension ConfigLoader {
    /// `[signing]`; absent means readings go unsigned.
    static func parseSigning(_ top: inout TableReader, folder: String) throws(ConfigError) -> AgentConfiguration.Signing
    {
        guard var section = try top.subtable("signing", required: false, fix: "write [signing] as a table") else {
            return AgentConfiguration.Signing()
        }
        var signing = AgentConfiguration.Signing()
        signing.enabled = try section.bool("enabled", fix: "set signing.enabled to true or false") ?? false
        signing.signEvery =
            try section.int(
                "sign_every",
                range: 1...100_000,
                fix:
                    "set signing.sign_every to 1 (sign every reading) or N (sign one in N; the hash chain covers the others)"
            ) ?? 1
        signing.signInterval =
            try section.duration(
                "sign_interval",
                range: .milliseconds(1)...(.seconds(3600)),
                fix: "set signing.sign_interval to a duration such as \"1s\": the longest time between two signatures"
            ) ?? .seconds(1)
        signing.encryptTo = try section.string(
            "encrypt_to",
            fix: "set signing.encrypt_to to the operator's PEM public key (EC P-256), or remove it"
        ).map { FileSystem.absolute($0, relativeTo: folder) }
        if signing.encryptTo != nil, !signing.enabled {
            throw section.error(
                "encrypt_to",
                "set, but signing.enabled is not true",
                fix: "set signing.enabled = true (encrypted readings are always signed), or remove signing.encrypt_to"
            )
        }
        try section.rejectUnknownKeys(known: "enabled, sign_every, sign_interval, encrypt_to")
        return signing
    }
}
