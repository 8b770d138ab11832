internal import PinpostAgent

/// What `pinpost bench` measured, as text for people and as JSON for `board/bench/compare`.
public struct BenchReport: Sendable, Equatable {
    public enum Mode: String, Sendable {
        /// Through spool, MQTT session and TLS to the broker, waiting for every acknowledgement.
        case publish
        /// Appends to the spool only, with the configured fsync policy (no network).
        case spool
    }

    public var mode: Mode
    public var count: Int
    public var qos: Int
    public var size: Int
    public var protocolVersion: String
    /// `spool.fsync` as configured: "always" or the interval.
    public var fsync: String
    public var acknowledged: Int
    public var rejected: Int
    public var dropped: Int
    /// From the first append of the N readings to the last acknowledgement (publish), or to the
    /// final fsync (spool). The warm-up reading and the TLS handshake are before this.
    public var seconds: Double
    /// CPU seconds (user + system) of the whole process during `seconds`.
    public var cpuSeconds: Double
    /// CPU seconds of the whole process from exec to the end of the measurement.
    public var cpuSecondsTotal: Double
    /// Peak RSS of the process (ru_maxrss), KiB.
    public var peakRSSKiB: Int
    /// Anonymous (private) resident memory at the end, KiB; RSS minus mapped binary and library pages.
    public var anonymousRSSKiB: Int?
    /// Session round trip per reading, milliseconds (see `AckTimeline`); nil in spool mode.
    public var latencyP50Milliseconds: Double?
    public var latencyP99Milliseconds: Double?
    public var latencyMaxMilliseconds: Double?
    /// Seconds from the bench's start (config loaded) to the first PUBACK (the warm-up reading).
    public var firstAckSeconds: Double?
    /// Wall clock (Unix nanoseconds) of the first PUBACK, so a caller can measure from exec.
    public var firstAckUnixNanoseconds: Int64?
    /// Warm-up readings needed before the measurement: 2 when the broker offered a session this
    /// fresh spool could not resume and the session reconnected clean first.
    public var warmUps = 0

    public var messagesPerSecond: Double { seconds > 0 ? Double(acknowledged) / seconds : 0 }
    /// Every reading was acknowledged (and none refused or dropped).
    public var complete: Bool { acknowledged == count && rejected == 0 && dropped == 0 }

    public var text: String {
        var lines: [String] = []
        switch mode {
        case .publish:
            lines.append(
                "pinpost bench: \(count) readings, QoS \(qos), \(size)-byte payload, MQTT \(protocolVersion), spool.fsync \(fsync)"
            )
            lines.append("acknowledged  \(acknowledged) of \(count) (refused \(rejected), dropped \(dropped))")
            lines.append("throughput    \(Self.fixed(messagesPerSecond, 0)) messages/s (\(Self.fixed(seconds, 3)) s)")
        case .spool:
            lines.append("pinpost bench --spool-only: \(count) appends, \(size)-byte payload, spool.fsync \(fsync)")
            lines.append("appended      \(acknowledged) of \(count) (dropped \(dropped))")
            lines.append("append rate   \(Self.fixed(messagesPerSecond, 0)) appends/s (\(Self.fixed(seconds, 3)) s)")
        }
        lines.append(
            "cpu           \(Self.fixed(cpuSeconds, 3)) s during the run, \(Self.fixed(cpuSecondsTotal, 3)) s in all"
        )
        let anonymous =
            anonymousRSSKiB.map { ", \(Self.fixed(Double($0) / 1024, 1)) MiB of it anonymous at the end" } ?? ""
        lines.append("peak rss      \(Self.fixed(Double(peakRSSKiB) / 1024, 1)) MiB\(anonymous)")
        if let p50 = latencyP50Milliseconds, let p99 = latencyP99Milliseconds, let maximum = latencyMaxMilliseconds {
            let what = qos == 0 ? "hand-out to TLS write (QoS 0 has no ack)" : "hand-out to PUBACK"
            lines.append(
                "ack latency   p50 \(Self.fixed(p50, 3)) ms, p99 \(Self.fixed(p99, 3)) ms, max \(Self.fixed(maximum, 3)) ms (\(what))"
            )
        }
        if let firstAck = firstAckSeconds {
            let retried = warmUps > 1 ? "; \(warmUps) warm-up readings, the session reconnected clean first" : ""
            lines.append(
                "first ack     \(Self.fixed(firstAck * 1000, 1)) ms after start (TLS handshake, CONNECT, warm-up PUBLISH\(retried))"
            )
        }
        return lines.joined(separator: "\n")
    }

    public var json: String {
        var fields: [(String, String)] = [
            ("mode", "\"\(mode.rawValue)\""),
            ("count", "\(count)"),
            ("qos", "\(qos)"),
            ("size", "\(size)"),
            ("protocol", "\"\(protocolVersion)\""),
            ("fsync", "\"\(fsync)\""),
            ("acknowledged", "\(acknowledged)"),
            ("rejected", "\(rejected)"),
            ("dropped", "\(dropped)"),
            ("seconds", Self.fixed(seconds, 6)),
            ("messages_per_second", Self.fixed(messagesPerSecond, 1)),
            ("cpu_seconds", Self.fixed(cpuSeconds, 3)),
            ("cpu_seconds_total", Self.fixed(cpuSecondsTotal, 3)),
            ("peak_rss_kib", "\(peakRSSKiB)"),
            ("rss_anon_kib", anonymousRSSKiB.map { "\($0)" } ?? "null"),
        ]
        let latency: String
        if let p50 = latencyP50Milliseconds, let p99 = latencyP99Milliseconds, let maximum = latencyMaxMilliseconds {
            latency = "{\"p50\":\(Self.fixed(p50, 4)),\"p99\":\(Self.fixed(p99, 4)),\"max\":\(Self.fixed(maximum, 4))}"
        } else {
            latency = "null"
        }
        fields.append(("ack_latency_ms", latency))
        fields.append(("first_ack_seconds", firstAckSeconds.map { Self.fixed($0, 6) } ?? "null"))
        fields.append(("first_ack_unix_ns", firstAckUnixNanoseconds.map { "\($0)" } ?? "null"))
        fields.append(("warm_ups", "\(warmUps)"))
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    /// Fixed-point text without Foundation's formatters.
    static func fixed(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return "0" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        let whole = UInt64(scaled / scale)
        let fraction = UInt64(scaled - Double(whole) * scale)
        let sign = value < 0 && scaled > 0 ? "-" : ""
        guard digits > 0 else { return sign + String(whole) }
        let fractionText = String(fraction)
        return sign + String(whole) + "." + String(repeating: "0", count: max(0, digits - fractionText.count))
            + fractionText
    }
}
