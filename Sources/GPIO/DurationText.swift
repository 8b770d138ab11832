/// Parses and prints human durations such as `100ms`, `1.5s`, `5m`, `250us`, `1h`.
///
/// Config files and waveform specs share one syntax, so a value that works in one works in the other.
public enum DurationText {
    public static func parse(_ text: String) -> Duration? {
        let trimmed = text.filter { $0 != " " }
        let number = trimmed.prefix { $0.isNumber || $0 == "." }
        let unit = trimmed.dropFirst(number.count)
        guard !number.isEmpty, let value = Double(number), value >= 0, value.isFinite else { return nil }
        let scale: Double
        switch unit {
        case "ns": scale = 1e-9
        case "us", "µs": scale = 1e-6
        case "ms": scale = 1e-3
        case "s": scale = 1
        case "m", "min": scale = 60
        case "h": scale = 3600
        case "d": scale = 86_400
        default: return nil
        }
        let nanoseconds = (value * scale * 1e9).rounded()
        guard nanoseconds < 9.2e18 else { return nil }
        return .nanoseconds(Int64(nanoseconds))
    }

    public static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        if attoseconds == 0 { return "\(seconds)s" }
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return "\(milliseconds)ms"
    }
}
