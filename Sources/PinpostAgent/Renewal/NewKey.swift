internal import SystemExtras
internal import SystemPackage
public import TLS

/// A key made for a renewal, where the current key lives: a PEM file (0600, the key file policy's mode) in the
/// store's `pending/` folder, or a new object on the same PKCS#11 token.
public struct NewKey {
    /// The key, to sign the request and check the answer against.
    public let key: DevicePrivateKey
    /// The `tls.key_file` value that names it: a path, or a `pkcs11:` URI.
    public let reference: String

    /// Makes a key like `current` in `folder`. TPM keys are refused: making one needs the TPM owner's tools.
    static func make(
        like current: PrivateKeySource,
        in folder: String,
        pkcs11: PKCS11KeyMaker?
    ) throws(RenewalFailure) -> NewKey {
        switch current {
        case .file:
            let path = folder + "/device.key"
            do {
                let key = try DevicePrivateKey.generateP256()
                try FileSystem.writeFileAtomically(path, try key.pem(), permissions: .ownerReadWrite)
                return NewKey(key: key, reference: path)
            } catch let error as KeyMaterialError {
                throw RenewalFailure(.key, "cannot make the new key: \(error)")
            } catch {
                throw RenewalFailure(.key, "cannot write the new key: \(error)")
            }
        case .pkcs11(let uri, let module, let pin):
            guard let pkcs11 else {
                throw RenewalFailure(.key, "no PKCS#11 key maker for \(current)")
            }
            let reference = try pkcs11.generate(like: uri, module: module, pin: pin)
            do {
                try FileSystem.writeFileAtomically(folder + "/key.uri", Array((reference + "\n").utf8))
                let key = try DevicePrivateKey.hardware(.pkcs11(uri: reference, module: module, pin: pin))
                return NewKey(key: key, reference: reference)
            } catch let error as KeyMaterialError {
                throw RenewalFailure(.key, "the new key on the token cannot be used: \(error)")
            } catch {
                throw RenewalFailure(.key, "cannot record the new key's URI: \(error)")
            }
        case .tpm:
            throw RenewalFailure(
                .key,
                "renewal of a TPM key (\(current)) is not supported: make a new key in the TPM with tpm2_create and provision it with pinpost-factory --csr --key-ref"
            )
        }
    }
}

/// Why a renewal did not happen; the current identity stays.
public struct RenewalFailure: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// Not connected to the broker, so no request could be sent.
        case notConnected = "not-connected"
        /// The new key could not be made or stored.
        case key
        /// No answer from the CA in time.
        case noAnswer = "no-answer"
        /// The CA refused the request (`<topic>/rejected`).
        case rejected
        /// The answer was refused by the device's checks.
        case refusedCertificate = "refused-certificate"
        /// The broker refused the new identity; the agent went back to the old one.
        case brokerRefused = "broker-refused"
        /// Writing the new identity failed.
        case storage
        /// AWS RegisterThing failed.
        case registration
        /// Renewal is not possible with this identity (e.g. a claim certificate).
        case unsupported
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
