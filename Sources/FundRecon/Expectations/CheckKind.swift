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
