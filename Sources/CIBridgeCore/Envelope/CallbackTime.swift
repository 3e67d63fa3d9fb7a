/// A timestamp as Tencent writes it, read into RFC 3339.
///
/// Accepted: `2022-06-30T15:29:42+0800`, `2022-08-09 14:54:17+0800`,
/// `2022-06-30T15:29:42+08:00`, `...Z`, with optional fractional seconds.
/// The offset is kept as sent (not converted to UTC), so the instant and the
/// sender's local time both survive. Without an offset the instant is unknown,
/// and the value is not used as the envelope `time`.
public struct CallbackTime: Sendable, Hashable, Comparable {
    /// The RFC 3339 form, e.g. `2022-06-30T15:29:42+08:00`.
    public let rfc3339: String
    /// Seconds since the Unix epoch (fraction ignored), for ordering.
    public let epochSeconds: Int64
    /// The fractional part's digits, for ordering within a second.
    private let fraction: String

    /// Reads `text`; `nil` when it is absent or not a full date-time with an offset.
    public init?(_ text: String?) {
        guard let text, text.utf8.count >= 20, text.utf8.count <= 64 else { return nil }
        let b = Array(text.utf8)
        func digits(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= b.count else { return nil }
            var value = 0
            for i in start..<(start + count) {
                let d = b[i]
                guard d >= 48 && d <= 57 else { return nil }
                value = value * 10 + Int(d - 48)
            }
            return value
        }
        guard b.count >= 20,
            let year = digits(0, 4), b[4] == UInt8(ascii: "-"),
            let month = digits(5, 2), b[7] == UInt8(ascii: "-"),
            let day = digits(8, 2),
            b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: " ") || b[10] == UInt8(ascii: "t"),
            let hour = digits(11, 2), b[13] == UInt8(ascii: ":"),
            let minute = digits(14, 2), b[16] == UInt8(ascii: ":"),
            let second = digits(17, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= Self.daysIn(month: month, year: year),
            hour <= 23, minute <= 59, second <= 60
        else { return nil }
        var index = 19
        var fraction = ""
        if index < b.count, b[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < b.count, b[index] >= 48, b[index] <= 57 { index += 1 }
            guard index > start else { return nil }
            fraction = String(decoding: b[start..<index], as: UTF8.self)
        }
        guard index < b.count else { return nil }
        var offsetMinutes = 0
        let offsetText: String
        if b[index] == UInt8(ascii: "Z") || b[index] == UInt8(ascii: "z") {
            guard index + 1 == b.count else { return nil }
            offsetText = "Z"
        } else {
            guard b[index] == UInt8(ascii: "+") || b[index] == UInt8(ascii: "-") else { return nil }
            let sign = b[index] == UInt8(ascii: "-") ? -1 : 1
            guard let offsetHours = digits(index + 1, 2) else { return nil }
            var minutesStart = index + 3
            if minutesStart < b.count, b[minutesStart] == UInt8(ascii: ":") { minutesStart += 1 }
            guard let offsetMins = digits(minutesStart, 2), minutesStart + 2 == b.count,
                offsetHours <= 23, offsetMins <= 59
            else { return nil }
            offsetMinutes = sign * (offsetHours * 60 + offsetMins)
            offsetText = (sign < 0 ? "-" : "+") + Self.pad(offsetHours) + ":" + Self.pad(offsetMins)
        }
        let days = Self.daysFromCivil(year: year, month: month, day: day)
        self.epochSeconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetMinutes * 60)
        self.fraction = fraction
        self.rfc3339 = "\(Self.pad(year, 4))-\(Self.pad(month))-\(Self.pad(day))T\(Self.pad(hour)):\(Self.pad(minute)):\(Self.pad(second))"
            + (fraction.isEmpty ? "" : "." + fraction) + offsetText
    }

    public static func < (lhs: CallbackTime, rhs: CallbackTime) -> Bool {
        if lhs.epochSeconds != rhs.epochSeconds { return lhs.epochSeconds < rhs.epochSeconds }
        return (Double("0." + lhs.fraction) ?? 0) < (Double("0." + rhs.fraction) ?? 0)
    }

    private static func pad(_ value: Int, _ width: Int = 2) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's algorithm).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
