internal import SystemExtras

extension ConfigLoader {
    /// `[renewal]`, or nil when the table is absent.
    static func parseRenewal(
        _ top: inout TableReader,
        folder: String,
        spoolDirectory: String,
        tlsCAFile: String?
    ) throws(ConfigError) -> AgentConfiguration.Renewal? {
        guard var section = try top.subtable("renewal", required: false, fix: "write [renewal] as a table") else {
            return nil
        }
        let renewBefore =
            try section.duration(
                "renew_before",
                range: .seconds(1)...(.seconds(3650 * 86_400)),
                fix: "set renewal.renew_before to a duration such as \"30d\""
            ) ?? .seconds(30 * 86_400)
        let topic = try topicTemplate(
            &section,
            "topic",
            default: AgentConfiguration.Renewal.defaultTopic
        )
        let activated = try topicTemplate(
            &section,
            "activated_topic",
            default: AgentConfiguration.Renewal.defaultActivatedTopic,
            allowEmpty: true
        )
        let directory =
            try section.string(
                "dir",
                fix: "set renewal.dir to a folder the agent may write (default <spool.dir>/identity)"
            ).map { FileSystem.absolute($0, relativeTo: folder) }
            ?? FileSystem.absolute("identity", relativeTo: spoolDirectory)
        guard
            let caFile = try section.string(
                "ca_file",
                fix: "set renewal.ca_file to the PEM trust anchor the issued device certificates chain to"
            ).map({ FileSystem.absolute($0, relativeTo: folder) }) ?? tlsCAFile
        else {
            throw section.error(
                "ca_file",
                "missing, and tls.ca_file is not set to default to",
                fix: "set renewal.ca_file to the PEM trust anchor the issued device certificates chain to"
            )
        }
        let timeoutFix = "write a duration such as \"60s\""
        let answerTimeout =
            try section.duration(
                "answer_timeout",
                range: .seconds(1)...(.seconds(3600)),
                fix: "set renewal.answer_timeout: " + timeoutFix
            ) ?? .seconds(60)
        let acceptTimeout =
            try section.duration(
                "accept_timeout",
                range: .seconds(1)...(.seconds(3600)),
                fix: "set renewal.accept_timeout: " + timeoutFix
            ) ?? .seconds(60)
        let retryAfter =
            try section.duration(
                "retry_after",
                range: .seconds(1)...(.seconds(30 * 86_400)),
                fix: "set renewal.retry_after to a duration such as \"1h\""
            ) ?? .seconds(3600)
        let template = try section.string(
            "aws_provisioning_template",
            fix: "set renewal.aws_provisioning_template to the AWS IoT fleet provisioning template's name, or remove it"
        )
        if let template, template.isEmpty || !template.utf8.allSatisfy(isTemplateNameByte) || template.count > 36 {
            throw section.error(
                "aws_provisioning_template",
                "'\(template)' is not a template name (1-36 of A-Z a-z 0-9 _ -)",
                fix: "set it to the name of the fleet provisioning template in AWS IoT, or remove it"
            )
        }
        let claimCert = try section.string(
            "claim_cert_file",
            fix: "set renewal.claim_cert_file to the claim certificate (PEM), or remove it"
        )
        let claimKey = try section.string(
            "claim_key_file",
            fix: "set renewal.claim_key_file to the claim certificate's key (PEM, mode 0600), or remove it"
        )
        let claimTopic = try topicTemplate(
            &section,
            "claim_topic",
            default: AgentConfiguration.Renewal.defaultClaimTopic
        )
        var claim: AgentConfiguration.Renewal.Claim?
        switch (claimCert, claimKey) {
        case (let cert?, let key?):
            claim = .init(
                certFile: FileSystem.absolute(cert, relativeTo: folder),
                keyFile: FileSystem.absolute(key, relativeTo: folder),
                topic: claimTopic
            )
        case (nil, nil):
            claim = nil
        case (nil, _):
            throw section.error(
                "claim_cert_file",
                "missing while renewal.claim_key_file is set",
                fix: "set both renewal.claim_cert_file and renewal.claim_key_file, or neither"
            )
        case (_, nil):
            throw section.error(
                "claim_key_file",
                "missing while renewal.claim_cert_file is set",
                fix: "set both renewal.claim_cert_file and renewal.claim_key_file, or neither"
            )
        }
        try section.rejectUnknownKeys(
            known:
                "renew_before, topic, activated_topic, dir, ca_file, answer_timeout, accept_timeout, retry_after, aws_provisioning_template, claim_cert_file, claim_key_file, claim_topic"
        )
        return AgentConfiguration.Renewal(
            renewBefore: renewBefore,
            topic: topic,
            activatedTopic: activated.isEmpty ? nil : activated,
            directory: directory,
            caFile: caFile,
            answerTimeout: answerTimeout,
            acceptTimeout: acceptTimeout,
            retryAfter: retryAfter,
            awsProvisioningTemplate: template,
            claim: claim
        )
    }

    /// A topic name template: no wildcards, no empty levels, and the placeholders the device needs to be told
    /// apart from the others on a shared broker (the AWS topic is the exception: the broker answers the connection).
    private static func topicTemplate(
        _ section: inout TableReader,
        _ key: String,
        default fallback: String,
        allowEmpty: Bool = false
    ) throws(ConfigError) -> String {
        let fix =
            "set renewal.\(key) to an MQTT topic name, e.g. \"\(fallback)\" ({id} is replaced by device.id), or remove it for that default"
        guard let text = try section.string(key, fix: fix) else { return fallback }
        if text.isEmpty {
            if allowEmpty { return text }
            throw section.error(key, "must not be empty", fix: fix)
        }
        if text.contains("+") || text.contains("#") || text.contains("//") || text.hasPrefix("/") || text.hasSuffix("/")
            || text.utf8.count > 512
        {
            throw section.error(key, "'\(text)' is not a topic name (no + or #, no empty levels)", fix: fix)
        }
        return text
    }

    private static func isTemplateNameByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            || byte == 0x5F || byte == 0x2D
    }
}
