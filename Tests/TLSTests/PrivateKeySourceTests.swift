import TLS
import Testing

@Suite("Private key sources")
struct PrivateKeySourceTests {
    @Test func urisAreHardwareKeysAndPathsAreFiles() {
        #expect(PrivateKeySource.parse("/etc/pinpost/device.key") == .file("/etc/pinpost/device.key"))
        #expect(
            PrivateKeySource.parse("pkcs11:token=t;object=k", module: "/m.so", pin: "1")
                == .pkcs11(uri: "pkcs11:token=t;object=k", module: "/m.so", pin: "1")
        )
        #expect(PrivateKeySource.parse("handle:0x81000001") == .tpm(uri: "handle:0x81000001"))
        #expect(PrivateKeySource.parse("handle:0x81000001").filePath == nil)
    }

    @Test func secretsInURIsAreNeverShown() {
        let pkcs11 = PrivateKeySource.parse("pkcs11:token=t;object=k;pin-value=5678")
        #expect(pkcs11.description == "pkcs11:token=t;object=k;pin-value=***")
        #expect(!PrivateKeySource.parse("handle:0x81000001?pass=secret").description.contains("secret"))
    }
}
