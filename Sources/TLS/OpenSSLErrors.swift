internal import CPinpostOpenSSL
internal import CPinpostOpenSSLShims

/// One entry of OpenSSL's error queue: its packed code (library and reason, to decide on) and its text (to show).
struct OpenSSLError: Sendable, Equatable {
    var code: UInt
    var text: String

    /// e.g. `ERR_LIB_X509`, `ERR_LIB_SSL`.
    var library: Int32 { CPinpostOpenSSLShims_ERR_GET_LIB(code) }
    /// e.g. `X509_R_KEY_VALUES_MISMATCH`, `SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED`.
    var reason: Int32 { CPinpostOpenSSLShims_ERR_GET_REASON(code) }
}

/// What one failing OpenSSL call left in the queue, oldest first.
struct OpenSSLErrorStack: Sendable, Equatable, CustomStringConvertible {
    var entries: [OpenSSLError]

    /// Whether an entry has this library and reason: how callers classify a failure (never by its text).
    func contains(library: Int32, reason: Int32) -> Bool {
        entries.contains { $0.library == library && $0.reason == reason }
    }

    /// The entries' reasons from one library, oldest first.
    func reasons(in library: Int32) -> [Int32] {
        entries.filter { $0.library == library }.map(\.reason)
    }

    /// The entries' texts joined, for messages.
    var description: String {
        entries.isEmpty ? "no details from OpenSSL" : entries.map(\.text).joined(separator: "; ")
    }
}

/// Drains OpenSSL's thread-local error queue.
///
/// OpenSSL reports failures through a queue rather than return values; leaving entries behind
/// would attach stale errors to the next, unrelated failure, so every failure path drains it.
enum OpenSSLErrors {
    /// The queue's entries, with their codes.
    static func drainStack() -> OpenSSLErrorStack {
        var entries: [OpenSSLError] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            let line = String(decoding: buffer.prefix { $0 != 0 }.map(UInt8.init(bitPattern:)), as: UTF8.self)
            entries.append(OpenSSLError(code: code, text: reasonText(line)))
        }
        return OpenSSLErrorStack(entries: entries)
    }

    /// The queue as one readable line.
    static func drain() -> String {
        drainStack().description
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
