import Foundation
import Postgres

/// The slice of time a scoped check sees (`recon run`): rows whose `period` column lies in the run's period.
public struct CheckScope: Sendable {
    public var period: Period
    public var zone: String

    public init(period: Period, zone: String) {
        self.period = period
        self.zone = zone
    }

    /// The predicate keeping a row whose `expression` (an SQL value of type `type`: a quoted
    /// column, or a derived value) falls in the period. A date keeps the days (or, when `grain` is
    /// month, the months) the period overlaps; a timestamp keeps the instants inside it.
    func predicate(on value: SQL, type: String, grain: String?) -> SQL {
        if type.hasPrefix("timestamp") {
            let zoned = type.contains("with time zone")
            func instant(_ local: String) -> SQL {
                zoned ? "(TIMESTAMP \(literal: local) AT TIME ZONE \(literal: zone))" : "TIMESTAMP \(literal: local)"
            }
            return "(\(value) >= \(instant(period.localStart)) AND \(value) < \(instant(period.localEnd)))"
        }
        let first = grain == "month" ? period.day.firstOfMonth : period.day
        let last = period.grain == .hour ? period.day.adding(days: 1) : period.next.day
        return days(value, from: first, before: last)
    }

    /// Whether a business day ends with the period: a day or a month, or the day's last hour.
    public var closesDay: Bool { period.grain != .hour || period.hour == 23 }

    /// The predicate keeping a business day (a date `value`) whose pairs' window closes during the
    /// period. A pair of day d may be completed through day d + `windowDays`, so its window closes
    /// when that day ends: a day (or a month) closes the windows of its days moved back by
    /// `windowDays`, and an hour closes them only when it is its day's last, since windows of whole
    /// days close at midnight. The day's other hours close none (`false`): judging a day whose
    /// window is still open would call a settlement that may come later in the day missing, and
    /// re-judging it every hour cost each hour a whole day's keys.
    func windowClosed(on value: SQL, windowDays: Int) -> SQL {
        if !closesDay { return "false" }
        return days(value, from: period.day.adding(days: -windowDays), before: period.next.day.adding(days: -windowDays))
    }

    private func days(_ value: SQL, from first: CalendarDate, before last: CalendarDate) -> SQL {
        "(\(value) >= DATE \(literal: first.description) AND \(value) < DATE \(literal: last.description))"
    }
}
