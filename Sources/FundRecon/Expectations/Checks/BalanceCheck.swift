import Postgres

/// `balance`: abs(lhs - rhs) above the tolerance fails; with `grain`, both sides are summed per group.
struct BalanceCheck: CheckType {
    static let name = "balance"
    static let keys: Set<String> = ["lhs", "rhs", "grain"]
    let lhs: String
    let rhs: String
    let grain: [String]

    init(_ fields: FieldReader) throws {
        lhs = try fields.string("lhs")
        rhs = try fields.string("rhs")
        grain = try fields.optionalStrings("grain") ?? []
    }

    func columns(table: String) -> [(table: String, columns: [String])] {
        [(table, grain + PlanContext.columnNames([lhs, rhs]))]
    }

    func plan(_ context: PlanContext) throws -> CheckPlan {
        let (left, right) = (PlanContext.fragment(lhs), PlanContext.fragment(rhs))
        guard !grain.isEmpty else {
            return context.rows(failingWhen: "coalesce(abs(\(left) - \(right)) > \(context.tolerance), true)",
                                extras: "\(left) AS lhs, \(right) AS rhs, \(left) - \(right) AS difference")
        }
        let keys = PlanContext.columns(grain)
        return .failingRows(query: """
            SELECT \(keys), sum\(left) AS lhs, sum\(right) AS rhs, sum\(left) - sum\(right) AS difference
            FROM \(context.relation) WHERE \(context.filter)
            GROUP BY \(keys)
            HAVING coalesce(abs(sum\(left) - sum\(right)) > \(context.tolerance), true)
            """, count: "count(*)", observed: nil)
    }
}
