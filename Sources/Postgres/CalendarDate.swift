import Foundation

/// A calendar day without a time or zone: PostgreSQL's `date`, a business date.
public struct CalendarDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible, PostgresEncodable,
    PostgresDecodable
{
    /// The proleptic Gregorian year.
    public let year: Int
    /// 1 to 12.
    public let month: Int
    /// 1 to 31.
    public let day: Int

    /// A date from its parts; nil when the day does not exist.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), day >= 1, day <= CalendarDate.daysIn(month: month, year: year) else {
            return nil
        }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD`.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, let date = CalendarDate(isoBytes: bytes[0..<10]) else { return nil }
        self = date
    }

    /// Parses the UTF-8 bytes of `YYYY-MM-DD`.
    public init?(utf8 bytes: ArraySlice<UInt8>) {
        self.init(isoBytes: bytes)
    }

    init?(isoBytes bytes: ArraySlice<UInt8>) {
        let array = Slice0(slice: bytes, base: bytes.startIndex)
        guard array.count == 10, array[4] == UInt8(ascii: "-"), array[7] == UInt8(ascii: "-"),
            let year = TimestampParser.number(array, 0, 4), let month = TimestampParser.number(array, 5, 2),
            let day = TimestampParser.number(array, 8, 2),
            year >= 1  // PostgreSQL has no year 0 (1 BC is written with BC)
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// The date `days` after 1970-01-01 (negative before).
    public init(daysSinceEpoch days: Int) {
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (m <= 2 ? 1 : 0)
        month = m
        day = d
    }

    /// Days since 1970-01-01.
    public var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The UTC day of an instant.
    public init(utcDayOf instant: Date) {
        let seconds = Int(instant.timeIntervalSince1970.rounded(.down))
        self.init(daysSinceEpoch: seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
    }

    /// Midnight UTC at the start of the day.
    public var midnightUTC: Date { Date(timeIntervalSince1970: Double(daysSinceEpoch) * 86_400) }

    /// The date `count` days later (earlier when negative).
    public func adding(days count: Int) -> CalendarDate { CalendarDate(daysSinceEpoch: daysSinceEpoch + count) }

    /// 0 for Monday through 6 for Sunday.
    public var weekdayIndex: Int { ((daysSinceEpoch % 7) + 7 + 3) % 7 }

    /// `YYYY-MM-DD`.
    public var description: String {
        let y = String(year)
        let m = month < 10 ? "0\(month)" : String(month)
        let d = day < 10 ? "0\(day)" : String(day)
        return String(repeating: "0", count: max(0, 4 - y.count)) + y + "-" + m + "-" + d
    }

    public var postgresText: String? { description }

    public static func decode(postgresText text: String) throws -> CalendarDate {
        guard let date = CalendarDate(text) else { throw decodingError(text, CalendarDate.self) }
        return date
    }

    public static func < (lhs: CalendarDate, rhs: CalendarDate) -> Bool { lhs.daysSinceEpoch < rhs.daysSinceEpoch }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let date = CalendarDate(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a date: \(text)"))
        }
        self = date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
