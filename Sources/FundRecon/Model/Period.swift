import Foundation
import Postgres

/// The grain of a persistent run: what one `recon run --period` covers.
public enum Grain: String, Sendable, CaseIterable, Codable {
    case hour, day, month
}

/// A business period (local to `business_timezone`): `2026-10-03T10`, `2026-10-03` or `2026-10`.
public struct Period: Sendable, Hashable, CustomStringConvertible {
    public let grain: Grain
    /// The local day the period starts on (the first of the month for a month).
    public let day: CalendarDate
    /// The local hour it starts at (0 unless the grain is hour).
    public let hour: Int

    public init(grain: Grain, day: CalendarDate, hour: Int = 0) {
        self.grain = grain
        self.day = grain == .month ? day.firstOfMonth : day
        self.hour = grain == .hour ? hour : 0
    }

    /// Parses `YYYY-MM-DDTHH` (hour), `YYYY-MM-DD` (day) or `YYYY-MM` (month); longer ISO text
    /// (an Airflow logical date such as `2026-10-03T10:00:00`) is cut to the grain.
    public init(parsing text: String, grain: Grain) throws {
        let bad = BadValue("'\(text)' is not \(grain == .hour ? "an" : "a") \(grain.rawValue) period (\(Period.shapes[grain, default: ""]))")
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        switch grain {
        case .month:
            guard trimmed.count >= 7, let day = CalendarDate(String(trimmed.prefix(7)) + "-01") else { throw bad }
            self.init(grain: .month, day: day)
        case .day:
            guard let day = CalendarDate(String(trimmed.prefix(10))) else { throw bad }
            self.init(grain: .day, day: day)
        case .hour:
            let characters = Array(trimmed)
            guard characters.count >= 13, characters[10] == "T" || characters[10] == " ",
                let day = CalendarDate(String(characters[0..<10])), let hour = Int(String(characters[11..<13])), (0...23).contains(hour)
            else { throw bad }
            self.init(grain: .hour, day: day, hour: hour)
        }
    }

    static let shapes: [Grain: String] = [.hour: "YYYY-MM-DDTHH", .day: "YYYY-MM-DD", .month: "YYYY-MM"]

    public var description: String {
        switch grain {
        case .month: return String(day.description.prefix(7))
        case .day: return day.description
        case .hour: return day.description + "T" + String(format: "%02d", hour)
        }
    }

    /// The period after this one.
    public var next: Period {
        switch grain {
        case .hour: return hour == 23 ? Period(grain: .hour, day: day.adding(days: 1)) : Period(grain: .hour, day: day, hour: hour + 1)
        case .day: return Period(grain: .day, day: day.adding(days: 1))
        case .month: return Period(grain: .month, day: day.adding(days: 32).firstOfMonth)
        }
    }

    /// Local wall-clock start, `YYYY-MM-DD HH:00:00`.
    public var localStart: String { day.description + " " + String(format: "%02d", hour) + ":00:00" }

    /// Local wall-clock end (the next period's start).
    public var localEnd: String { next.localStart }

    /// Daily files of days before this business date are due when the period ends.
    public var filesDueBefore: CalendarDate { next.day }

    /// The periods from `first` through `last`, in order (`recon backfill`).
    public static func range(from first: Period, through last: Period) -> [Period] {
        var periods: [Period] = []
        var period = first
        while period.localStart <= last.localStart {
            periods.append(period)
            period = period.next
        }
        return periods
    }

    /// The instants the period starts and ends at in `zone` (PostgreSQL knows the zone rules).
    public func instants(zone: String, connection: Connection) throws -> (start: Date, end: Date) {
        let row = try connection.query("""
            SELECT (\(localStart)::timestamp AT TIME ZONE \(zone)), (\(localEnd)::timestamp AT TIME ZONE \(zone))
            """).rows[0]
        return (try row.decode(Date.self, at: 0), try row.decode(Date.self, at: 1))
    }
}

extension CalendarDate {
    /// The first day of this date's month.
    var firstOfMonth: CalendarDate { CalendarDate(String(description.prefix(7)) + "-01")! }

    /// The last day of this date's month.
    var lastOfMonth: CalendarDate { firstOfMonth.adding(days: 32).firstOfMonth.adding(days: -1) }
}
