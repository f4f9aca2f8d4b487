import Postgres

/// `row_count`: the table's row count outside [min, max], or different from another table's;
/// the failing rows are the difference.
struct RowCountCheck: CheckType {
    static let name = "row_count"
    static let keys: Set<String> = ["min", "max", "equals"]
    let minimum: Int?
    let maximum: Int?
    let equals: TableSide?

    init(_ fields: FieldReader) throws {
        equals = try fields.optionalSide("equals", needs: ["table"])
        minimum = try fields.optionalInt("min")
        maximum = try fields.optionalInt("max")
        guard minimum != nil || maximum != nil || equals != nil else { throw fields.failure("row_count needs min, max or equals") }
    }

    var otherTables: [String] { equals.map { [$0.table] } ?? [] }

    func columns(table: String) -> [(table: String, columns: [String])] {
        [(table, [])] + (equals.map { [($0.table, [])] } ?? [])
    }

    func plan(_ context: PlanContext) throws -> CheckPlan {
        // The other table's count is a joined one-row subquery, not a scalar subquery in the
        // target list, which Citus cannot push down beside a distributed table's count.
        var expected: SQL = "SELECT NULL::bigint AS expected"
        if let equals {
            expected = "SELECT count(*) AS expected FROM \(context.relation(equals.table)) WHERE \(equals.where.map(PlanContext.fragment) ?? "true")"
        }
        let shortfall: SQL = minimum.map { "greatest(\(integer: $0) - n.row_count, 0)" } ?? "0"
        let excess: SQL = maximum.map { "greatest(n.row_count - \(integer: $0), 0)" } ?? "0"
        let difference: SQL = equals == nil ? "0" : "abs(n.row_count - n.expected)"
        let counts: SQL = """
            SELECT n.row_count, e.expected
            FROM (SELECT count(*) AS row_count FROM \(context.relation) WHERE \(context.filter)) n CROSS JOIN (\(expected)) e
            """
        return .failingRows(query: """
            SELECT * FROM (
              SELECT n.row_count, n.expected, \(minimum.map { "\(integer: $0)" } ?? "NULL") AS min, \(maximum.map { "\(integer: $0)" } ?? "NULL") AS max,
                     \(shortfall) + \(excess) + \(difference) AS difference
              FROM (\(counts)) n
            ) r WHERE r.difference > 0
            """, count: "sum(difference)", observed: counts)
    }
}
