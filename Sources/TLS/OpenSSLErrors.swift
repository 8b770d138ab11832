internal import CPinpostOpenSSL

/// Drains OpenSSL's thread-local error queue into one readable line.
///
/// OpenSSL reports failures through a queue rather than return values; leaving entries behind
/// would attach stale errors to the next, unrelated failure, so every failure path drains it.
enum OpenSSLErrors {
    static func drain() -> String {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(
                reasonText(String(decoding: buffer.prefix { $0 != 0 }.map(UInt8.init(bitPattern:)), as: UTF8.self))
            )
        }
        return messages.isEmpty ? "no details from OpenSSL" : messages.joined(separator: "; ")
    }

    static func clear() {
        ERR_clear_error()
    }

    /// `error:0A000086:SSL routines::certificate verify failed` → `certificate verify failed (SSL routines)`.
    private static func reasonText(_ line: String) -> String {
        let parts = line.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 5 else { return line }
        let library = parts[2]
        let reason = parts[4...].joined(separator: ":")
        return library.isEmpty ? reason : "\(reason) (\(library))"
    }
}
