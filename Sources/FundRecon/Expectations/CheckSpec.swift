/// A bad expectations file: the file, the line, the check and what is wrong (exit code 2).
public struct ExpectationsError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var checkID: String?
    public var message: String

    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? "")\(checkID.map { ": check \($0)" } ?? ""): \(message)"
    }
}

/// `error` checks gate the run; `warn` checks are reported only.
public enum Severity: String, Sendable, Codable {
    case error, warn
}

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

/// What a check asks, by type (EXPECTATIONS.md "Check types").
public enum CheckKind: Sendable, Equatable {
    case notNull(columns: [String])
    case unique(columns: [String])
    case acceptedValues(column: String, values: [String], allowNull: Bool)
    case range(column: String, min: String?, max: String?)
    case expression(String)
    case relationships(columns: [String], to: TableSide)
    case rowCount(min: Int?, max: Int?, equals: TableSide?)
    case balance(lhs: String, rhs: String, grain: [String])
    case reconcile(left: TableSide, right: TableSide, dateWindowDays: Int?, matchAlso: [String])
    case crossPeriod(fine: TableSide, coarse: TableSide, rollup: String, keys: [String], measures: [String])
    case continuity(keys: [String], period: String, stepDays: Int, opening: String, closing: String)
    case freshness(column: String, maxAgeSeconds: Int)
    case sql(String)

    /// The `type:` name.
    public var typeName: String {
        switch self {
        case .notNull: return "not_null"
        case .unique: return "unique"
        case .acceptedValues: return "accepted_values"
        case .range: return "range"
        case .expression: return "expression"
        case .relationships: return "relationships"
        case .rowCount: return "row_count"
        case .balance: return "balance"
        case .reconcile: return "reconcile"
        case .crossPeriod: return "cross_period"
        case .continuity: return "continuity"
        case .freshness: return "freshness"
        case .sql: return "sql"
        }
    }

    /// Row-level checks: evaluated together in one scan of their table.
    var isRowLevel: Bool {
        switch self {
        case .notNull, .acceptedValues, .range, .expression: return true
        case .balance(_, _, let grain): return grain.isEmpty
        default: return false
        }
    }
}

/// One parsed check.
public struct CheckSpec: Sendable {
    public var id: String
    public var kind: CheckKind
    /// The main table (for two-table types, the left or fine side).
    public var table: String
    public var description: String?
    public var severity: Severity
    public var `where`: String?
    public var sampleSize: Int
    public var tags: [String]
    public var tolerance: String
    public var maxFailing: Int
    /// The `period` key: what scopes the check in a scoped run (nil: it sees every row).
    public var period: PeriodColumn?
    /// The line the check starts on.
    public var line: Int
}

/// A parsed expectations file.
public struct ExpectationsFile: Sendable {
    public var path: String
    public var checks: [CheckSpec]
}
