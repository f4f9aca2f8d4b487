import Foundation

/// One side of a two-table check.
public struct TableSide: Sendable, Equatable {
    public var table: String
    public var keys: [String] = []
    public var amount: String?
    public var date: String?
    public var `where`: String?
    public var period: String?
    public var line: Int?
}

/// The column that places a check's rows in time: a scoped run (`recon run`) evaluates the check
/// on the rows of its period only. `grain: month` marks a date column holding months.
public struct PeriodColumn: Sendable, Equatable {
    public var column: String
    public var grain: String?
}

/// One parsed check: the keys every check has, and its type with the type's own keys.
public struct CheckSpec: Sendable {
    public var id: String
    /// The type and its own keys.
    let definition: any CheckType
    /// The main table (for two-table types, the left or fine side; empty for a `sql` check without one).
    public var table: String
    public var description: String?
    public var severity: Severity
    public var `where`: String?
    public var sampleSize: Int
    public var tags: [String]
    /// The absolute tolerance of numeric comparisons.
    public var tolerance: Decimal
    public var maxFailing: Int
    /// The `period` key: what scopes the check in a scoped run (nil: it sees every row).
    public var period: PeriodColumn?
    /// The line the check starts on.
    public var line: Int
    /// How much money matters (money checks only).
    public var materiality: Materiality?
    /// Which runs judge the check (`cadence:`).
    public var cadence: Cadence = .run

    /// The `type:` name.
    public var typeName: String { Swift.type(of: definition).name }
}

/// Which runs of `recon run` judge a check. A check that cannot be scoped to a period reads the
/// whole warehouse in every run; `day` judges it when a business day closes instead of every hour.
public enum Cadence: String, Sendable {
    /// Every run (the default).
    case run
    /// The runs that close a business day: day and month runs, the day's last hour (23, as the
    /// reconciles' windows close at midnight), and every run outside `recon run` (audits, `recon check`).
    case day
}
