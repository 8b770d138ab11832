/// A wall-clock instant in UTC with millisecond precision, printed as RFC 3339 without Foundation.
///
/// Readings carry the time they were taken as `2026-11-23T01:02:03.456Z`; formatting by hand keeps
/// locale and ICU data out of a binary that runs on small boards.
public struct UTCTime: Sendable, Hashable, Comparable {
    public var epochMilliseconds: Int64

    public init(epochMilliseconds: Int64) {
        self.epochMilliseconds = epochMilliseconds
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.epochMilliseconds < rhs.epochMilliseconds }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`
    public var rfc3339: String {
        let fields = CivilFields(epochMilliseconds: epochMilliseconds)
        return fields.dateAndTime + "." + Self.pad(fields.millisecond, 3) + "Z"
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`
    public var rfc3339Seconds: String {
        CivilFields(epochMilliseconds: epochMilliseconds).dateAndTime + "Z"
    }

    static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}

/// Proleptic Gregorian calendar fields (Howard Hinnant's civil-from-days).
struct CivilFields {
    var year: Int64
    var month: Int64
    var day: Int64
    var hour: Int64
    var minute: Int64
    var second: Int64
    var millisecond: Int64

    init(epochMilliseconds: Int64) {
        var seconds = epochMilliseconds / 1000
        var milliseconds = epochMilliseconds % 1000
        if milliseconds < 0 {
            milliseconds += 1000
            seconds -= 1
        }
        millisecond = milliseconds
        var days = seconds / 86_400
        var rest = seconds % 86_400
        if rest < 0 {
            rest += 86_400
            days -= 1
        }
        hour = rest / 3600
        minute = (rest % 3600) / 60
        second = rest % 60
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    var dateAndTime: String {
        let pad = UTCTime.pad
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))"
    }
}
