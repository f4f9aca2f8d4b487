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
    ///
    /// `lagDays` moves the slice that many days back: a reconcile with a date window checks the
    /// rows whose window closed during the period, not rows whose counterpart cannot have come yet.
    func predicate(on value: SQL, type: String, grain: String?, lagDays: Int = 0) -> SQL {
        if type.hasPrefix("timestamp") {
            let zoned = type.contains("with time zone")
            func instant(_ local: String) -> SQL {
                let shifted: SQL = "(TIMESTAMP \(literal: local) - interval '\(integer: lagDays) days')"
                return zoned ? "(\(shifted) AT TIME ZONE \(literal: zone))" : shifted
            }
            return "(\(value) >= \(instant(period.localStart)) AND \(value) < \(instant(period.localEnd)))"
        }
        let first = (grain == "month" ? period.day.firstOfMonth : period.day).adding(days: -lagDays)
        let last = (period.grain == .hour ? period.day.adding(days: 1) : period.next.day).adding(days: -lagDays)
        return "(\(value) >= DATE \(literal: first.description) AND \(value) < DATE \(literal: last.description))"
    }
}
