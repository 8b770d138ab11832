#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// How the simulated backend drives a line, written in config as `simulate = "toggle:100ms"`.
public enum Waveform: Sendable, Hashable, CustomStringConvertible {
    /// Flip the line every `period`.
    case toggle(period: Duration)
    /// A square wave at `perSecond` pulses per second (flow meters, anemometers).
    case pulses(perSecond: Double)
    /// Flip at random moments, exponentially distributed around `meanInterval` (a person pressing a button).
    case random(meanInterval: Duration)
    /// Hold one value; no edges.
    case constant(Bool)

    /// Parses `toggle:<duration>`, `pulses:<rate>` (`10` or `10/s`), `random:<duration>`, `constant:<0|1>`.
    public init(parsing text: String) throws(WaveformError) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw WaveformError(text: text) }
        let argument = parts[1]
        switch parts[0] {
        case "toggle":
            guard let period = DurationText.parse(argument), period > .zero else { throw WaveformError(text: text) }
            self = .toggle(period: period)
        case "pulses":
            let rateText = argument.hasSuffix("/s") ? String(argument.dropLast(2)) : argument
            guard let rate = Double(rateText), rate > 0, rate <= 100_000 else { throw WaveformError(text: text) }
            self = .pulses(perSecond: rate)
        case "random":
            guard let mean = DurationText.parse(argument), mean > .zero else { throw WaveformError(text: text) }
            self = .random(meanInterval: mean)
        case "constant":
            switch argument {
            case "0", "false", "low": self = .constant(false)
            case "1", "true", "high": self = .constant(true)
            default: throw WaveformError(text: text)
            }
        default:
            throw WaveformError(text: text)
        }
    }

    /// The value the line starts with.
    public var initialValue: Bool {
        if case .constant(let value) = self { return value }
        return false
    }

    /// Time until the next flip, or `nil` when the line never changes.
    /// - Parameter uniform: a random number in [0, 1), used by `random`.
    public func delayUntilNextFlip(uniform: Double) -> Duration? {
        switch self {
        case .toggle(let period):
            return period
        case .pulses(let rate):
            return .nanoseconds(Int64((1e9 / rate / 2).rounded()))
        case .random(let mean):
            let u = min(max(uniform, 1e-12), 1 - 1e-12)
            let seconds = -Double(mean.components.seconds) - Double(mean.components.attoseconds) * 1e-18
            return .nanoseconds(Int64((seconds * log(1 - u) * 1e9).rounded()))
        case .constant:
            return nil
        }
    }

    public var description: String {
        switch self {
        case .toggle(let period): "toggle:\(DurationText.format(period))"
        case .pulses(let rate): "pulses:\(rate)/s"
        case .random(let mean): "random:\(DurationText.format(mean))"
        case .constant(let value): "constant:\(value ? 1 : 0)"
        }
    }
}

/// A `simulate` value that is not a known waveform.
public struct WaveformError: Error, Sendable, Equatable, CustomStringConvertible {
    public var text: String

    public var description: String {
        "'\(text)' is not a waveform; use toggle:<duration> (e.g. toggle:100ms), pulses:<rate per second>, random:<mean interval> or constant:<0|1>"
    }
}
