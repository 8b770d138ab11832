import PinpostAgent
import Testing

/// `[renewal]`: its defaults, and errors that name the key and the fix.
@Suite("Renewal config")
struct RenewalConfigTests {
    func parse(_ renewal: String) throws(ConfigError) -> AgentConfiguration {
        try ConfigLoader.parse(ConfigLoaderTests.valid + "\n[renewal]\n" + renewal, file: "/etc/pinpost/pinpost.toml")
    }

    func failure(_ renewal: String) -> ConfigError? {
        do {
            _ = try parse(renewal)
            Issue.record("expected a config error")
            return nil
        } catch {
            return error
        }
    }

    @Test func withoutTheTableThereIsNoRenewal() throws {
        let configuration = try ConfigLoader.parse(ConfigLoaderTests.valid, file: "/etc/pinpost/pinpost.toml")
        #expect(configuration.renewal == nil)
    }

    @Test func anEmptyTableTakesTheDocumentedDefaults() throws {
        let renewal = try #require(try parse("").renewal)
        #expect(renewal.renewBefore == .seconds(30 * 86_400))
        #expect(renewal.topic == "pinpost/certificates/{id}/create-from-csr/json")
        #expect(renewal.activatedTopic == "pinpost/certificates/{id}/activated")
        #expect(renewal.directory == "/etc/pinpost/state/identity")
        #expect(renewal.caFile == "/etc/pinpost/ca.crt")
        #expect(renewal.answerTimeout == .seconds(60))
        #expect(renewal.acceptTimeout == .seconds(60))
        #expect(renewal.retryAfter == .seconds(3600))
        #expect(renewal.awsProvisioningTemplate == nil)
        #expect(renewal.claim == nil)
    }

    @Test func theAWSSettingsLoad() throws {
        let renewal = try #require(
            try parse(
                """
                renew_before = "14d"
                topic = "$aws/certificates/create-from-csr/json"
                activated_topic = ""
                aws_provisioning_template = "pinpost-renewal"
                """
            ).renewal
        )
        #expect(renewal.renewBefore == .seconds(14 * 86_400))
        #expect(renewal.topic == "$aws/certificates/create-from-csr/json")
        #expect(renewal.activatedTopic == nil)
        #expect(renewal.awsProvisioningTemplate == "pinpost-renewal")
    }

    @Test func aClaimNeedsBothItsCertificateAndItsKey() throws {
        let renewal = try #require(
            try parse("claim_cert_file = \"claim.crt\"\nclaim_key_file = \"claim.key\"").renewal
        )
        #expect(renewal.claim?.certFile == "/etc/pinpost/claim.crt")
        #expect(renewal.claim?.keyFile == "/etc/pinpost/claim.key")
        #expect(renewal.claim?.topic == "pinpost/claim/{claim}/{id}/create-from-csr/json")
        let error = try #require(failure("claim_cert_file = \"claim.crt\""))
        #expect(error.key == "renewal.claim_key_file")
        #expect(error.fix.contains("claim_cert_file"))
    }

    @Test func aTopicWithAWildcardIsRefused() throws {
        let error = try #require(failure("topic = \"pinpost/+/csr\""))
        #expect(error.key == "renewal.topic")
        #expect(error.fix.contains("{id}"))
    }

    @Test func anUnknownKeyNamesTheKnownOnes() throws {
        let error = try #require(failure("renew_befor = \"30d\""))
        #expect(error.key == "renewal.renew_befor")
        #expect(error.fix.contains("renew_before"))
    }

    @Test func aTemplateNameAWSWouldRefuseIsRefused() throws {
        let error = try #require(failure("aws_provisioning_template = \"has space\""))
        #expect(error.key == "renewal.aws_provisioning_template")
    }

    @Test func aDurationOutOfRangeIsRefused() throws {
        let error = try #require(failure("answer_timeout = \"2h\""))
        #expect(error.key == "renewal.answer_timeout")
    }
}
