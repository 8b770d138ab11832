internal import RealModule

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
    /// An analog value (temperature, humidity) swinging between `min` and `max` once per `period`;
    /// for the `ds18b20`, `iio` and analog `poll` kinds, which read `value(at:)` instead of a line.
    case sine(period: Duration, min: Double, max: Double)

    /// Parses `toggle:<duration>`, `pulses:<rate>` (`10` or `10/s`), `random:<duration>`, `constant:<0|1>`,
    /// `sine:<period>,<min>,<max>`.
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
        case "sine":
            let fields = argument.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces() }
            guard fields.count == 3,
                let period = DurationText.parse(fields[0]), period > .zero,
                let low = Double(fields[1]), let high = Double(fields[2]),
                low.isFinite, high.isFinite, low <= high
            else { throw WaveformError(text: text) }
            self = .sine(period: period, min: low, max: high)
        default:
            throw WaveformError(text: text)
        }
    }

    /// Whether this waveform describes an analog value (`sine`) rather than a digital line.
    public var isAnalog: Bool {
        if case .sine = self { return true }
        return false
    }

    /// The analog value `elapsed` after the start: `sine` starts at the middle and rises first;
    /// digital waveforms give their initial value as 0 or 1.
    public func value(after elapsed: Duration) -> Double {
        guard case .sine(let period, let low, let high) = self else { return initialValue ? 1 : 0 }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let periodSeconds = Double(period.components.seconds) + Double(period.components.attoseconds) * 1e-18
        let phase = 2 * Double.pi * seconds / periodSeconds
        return (low + high) / 2 + (high - low) / 2 * Double.sin(phase)
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
            return .nanoseconds(Int64((seconds * Double.log(onePlus: -u) * 1e9).rounded()))
        case .constant, .sine:
            return nil
        }
    }

    public var description: String {
        switch self {
        case .toggle(let period): "toggle:\(DurationText.format(period))"
        case .pulses(let rate): "pulses:\(rate)/s"
        case .random(let mean): "random:\(DurationText.format(mean))"
        case .constant(let value): "constant:\(value ? 1 : 0)"
        case .sine(let period, let low, let high): "sine:\(DurationText.format(period)),\(low),\(high)"
        }
    }
}

/// A `simulate` value that is not a known waveform.
public struct WaveformError: Error, Sendable, Equatable, CustomStringConvertible {
    public var text: String

    public var description: String {
        "'\(text)' is not a waveform; use toggle:<duration> (e.g. toggle:100ms), pulses:<rate per second>, random:<mean interval>, constant:<0|1> or sine:<period>,<min>,<max> (e.g. sine:60s,18,24)"
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
