/// The payloads of the certificate-from-CSR exchange, as AWS IoT Core's fleet provisioning MQTT API defines them
/// (`CreateCertificateFromCsr`, `RegisterThing`), which Pinpost's own CA (`pinpost-ca`) answers too.
public enum CertificateAPI {
    /// `{"certificateSigningRequest":"-----BEGIN CERTIFICATE REQUEST-----…"}`
    public static func request(csr: [UInt8]) -> [UInt8] {
        Array(JSONValue.object([("certificateSigningRequest", String(decoding: csr, as: UTF8.self))]).utf8)
    }

    /// The PEM request of a request payload.
    public static func requestedCSR(_ payload: [UInt8]) -> String? {
        (try? JSONValue.parse(payload))?["certificateSigningRequest"]?.string
    }

    /// What `<topic>/accepted` carries.
    public struct Accepted: Sendable, Equatable {
        public var certificateID: String
        public var certificatePEM: String
        public var ownershipToken: String

        public init(certificateID: String, certificatePEM: String, ownershipToken: String) {
            self.certificateID = certificateID
            self.certificatePEM = certificatePEM
            self.ownershipToken = ownershipToken
        }

        public init?(_ payload: [UInt8]) {
            guard let json = (try? JSONValue.parse(payload)), let pem = json["certificatePem"]?.string else {
                return nil
            }
            self.init(
                certificateID: json["certificateId"]?.string ?? "",
                certificatePEM: pem,
                ownershipToken: json["certificateOwnershipToken"]?.string ?? ""
            )
        }

        public var payload: [UInt8] {
            Array(
                JSONValue.object([
                    ("certificateId", certificateID), ("certificatePem", certificatePEM),
                    ("certificateOwnershipToken", ownershipToken),
                ]).utf8
            )
        }
    }

    /// What `<topic>/rejected` carries (AWS's ErrorResponse).
    public struct Rejected: Sendable, Equatable, CustomStringConvertible {
        public var statusCode: Int
        public var errorCode: String
        public var errorMessage: String

        public init(statusCode: Int, errorCode: String, errorMessage: String) {
            self.statusCode = statusCode
            self.errorCode = errorCode
            self.errorMessage = errorMessage
        }

        public init(_ payload: [UInt8]) {
            let json = (try? JSONValue.parse(payload))
            self.init(
                statusCode: Int(json?["statusCode"]?.number ?? 0),
                errorCode: json?["errorCode"]?.string ?? "",
                errorMessage: json?["errorMessage"]?.string ?? String(decoding: payload.prefix(200), as: UTF8.self)
            )
        }

        public var payload: [UInt8] {
            Array(
                "{\"statusCode\":\(statusCode),\"errorCode\":\(JSONValue.quote(errorCode)),\"errorMessage\":\(JSONValue.quote(errorMessage))}"
                    .utf8
            )
        }

        public var description: String { "\(errorCode) (\(statusCode)): \(errorMessage)" }
    }

    /// Pinpost's activation notice: the device connected with this certificate, so older ones may be revoked.
    public static func activated(certificateID: String, serial: String) -> [UInt8] {
        Array(JSONValue.object([("certificateId", certificateID), ("serial", serial)]).utf8)
    }

    /// AWS IoT RegisterThing's topic for a fleet provisioning template.
    public static func registerThingTopic(template: String) -> String {
        "$aws/provisioning-templates/\(template)/provision/json"
    }

    /// RegisterThing's request: the ownership token of the new certificate and the template's parameters.
    public static func registerThing(ownershipToken: String, deviceID: String) -> [UInt8] {
        Array(
            "{\"certificateOwnershipToken\":\(JSONValue.quote(ownershipToken)),\"parameters\":{\"ThingName\":\(JSONValue.quote(deviceID))}}"
                .utf8
        )
    }
}
