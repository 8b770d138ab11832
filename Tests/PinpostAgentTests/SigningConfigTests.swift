import PinpostAgent
import Testing

@Suite("Config: [signing]")
struct SigningConfigTests {
    func load(_ signing: String) throws(ConfigError) -> AgentConfiguration {
        try ConfigLoader.parse(ConfigLoaderTests.valid + "\n" + signing, file: "/etc/pinpost/pinpost.toml")
    }

    @Test func offByDefaultAndEveryKeyRead() throws {
        #expect(try load("").signing == AgentConfiguration.Signing())
        #expect(try load("").signing.enabled == false)
        let signing = try load(
            "[signing]\nenabled = true\nsign_every = 100\nsign_interval = \"2s\"\nencrypt_to = \"operator.pub\""
        ).signing
        #expect(signing.enabled && signing.signEvery == 100 && signing.signInterval == .seconds(2))
        #expect(signing.encryptTo == "/etc/pinpost/operator.pub", "relative to the config file")
    }

    @Test func mistakesNameTheKeyAndTheFix() {
        func key(_ text: String) -> String? {
            do {
                _ = try load(text)
                return nil
            } catch {
                #expect(!error.fix.isEmpty)
                return error.key
            }
        }
        #expect(key("[signing]\nenabled = true\nsign_every = 0") == "signing.sign_every")
        #expect(key("[signing]\nenabled = true\nsign_interval = \"soon\"") == "signing.sign_interval")
        #expect(key("[signing]\nencrypt_to = \"operator.pub\"") == "signing.encrypt_to")
        #expect(key("[signing]\nenable = true") == "signing.enable")
    }
}
