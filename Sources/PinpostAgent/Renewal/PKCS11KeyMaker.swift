internal import SystemExtras

/// Makes a new EC P-256 key pair on the token that holds the current key, with OpenSC's `pkcs11-tool` (the OpenSSL
/// pkcs11 engine can use keys but not make them). The new object is labelled like the current one plus `-r<time>`.
struct PKCS11KeyMaker: Sendable {
    /// `pkcs11-tool` (Debian package opensc).
    var tool = "/usr/bin/pkcs11-tool"
    /// The module when `tls.pkcs11_module` is not set.
    var defaultModule = "/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so"
    var now: @Sendable () -> Int64

    /// Returns the `pkcs11:` URI of the new private key.
    func generate(like uri: String, module: String?, pin: String?) throws(RenewalFailure) -> String {
        var attributes = Self.attributes(of: uri)
        guard let token = attributes["token"], let object = attributes["object"] else {
            throw RenewalFailure(
                .key,
                "tls.key_file \(PrivateKeySourceText.redacted(uri)) names no token= and object=, so the new key's place on the token is unknown"
            )
        }
        guard let pin else {
            throw RenewalFailure(.key, "making a key on the token needs its PIN: set tls.pin_file")
        }
        let base = object.split(separator: "-r").first.map(String.init) ?? object
        let label = "\(base)-r\(now())"
        let id = String(UInt64(now()), radix: 16)
        let arguments = [
            "--module", module ?? defaultModule, "--token-label", Self.percentDecoded(token), "--login", "--pin", pin,
            "--keypairgen", "--key-type", "EC:prime256v1", "--label", label, "--id", id.count % 2 == 0 ? id : "0" + id,
        ]
        let result: Subprocess.Result
        do {
            result = try Subprocess.run(tool, arguments)
        } catch {
            throw RenewalFailure(.key, "cannot run \(tool) to make the new key (\(error)); install opensc")
        }
        guard result.status == 0 else {
            throw RenewalFailure(
                .key,
                "\(tool) could not make a key on token '\(token)' (exit \(result.status)): \(result.output.prefix(300))"
            )
        }
        attributes["object"] = label
        attributes["id"] = nil
        attributes["type"] = "private"
        let order = ["token", "object", "type"]
        var parts = order.compactMap { name in attributes[name].map { "\(name)=\($0)" } }
        parts += attributes.keys.sorted().filter { !order.contains($0) }.map { "\($0)=\(attributes[$0] ?? "")" }
        return "pkcs11:" + parts.joined(separator: ";")
    }

    static func attributes(of uri: String) -> [String: String] {
        var result: [String: String] = [:]
        let body = uri.dropFirst("pkcs11:".count).split(separator: "?").first ?? ""
        for part in body.split(separator: ";") {
            let pair = part.split(separator: "=", maxSplits: 1)
            if pair.count == 2 { result[String(pair[0])] = String(pair[1]) }
        }
        return result
    }

    static func percentDecoded(_ text: String) -> String {
        var bytes: [UInt8] = []
        let utf8 = Array(text.utf8)
        var position = 0
        while position < utf8.count {
            if utf8[position] == UInt8(ascii: "%"), position + 2 < utf8.count,
                let value = UInt8(String(decoding: utf8[position + 1...position + 2], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                position += 3
            } else {
                bytes.append(utf8[position])
                position += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Key URIs for messages, without PINs.
enum PrivateKeySourceText {
    static func redacted(_ uri: String) -> String {
        uri.split(separator: ";").map { $0.hasPrefix("pin-value=") ? "pin-value=***" : String($0) }
            .joined(separator: ";")
    }
}
