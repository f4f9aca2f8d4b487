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

    var stake: SQL? { "abs(\(PlanContext.money("difference")))" }

    func checkedTotal(_ context: PlanContext) -> SQL? {
        context.total(of: PlanContext.fragment(lhs), in: context.spec.table, filter: context.filter)
    }

    func plan(_ context: PlanContext) throws -> CheckPlan {
        let (left, right) = (PlanContext.fragment(lhs), PlanContext.fragment(rhs))
        guard !grain.isEmpty else {
            return context.rows(failingWhen: "coalesce(abs(\(left) - \(right)) > \(context.tolerance), true)",
                                extras: "\(left) AS lhs, \(right) AS rhs, \(left) - \(right) AS difference")
        }
        let grouping = Grouping(relation: context.relation, keys: grain, filter: context.filter,
                                aggregates: [.init(name: "lhs", expression: "sum\(left)"), .init(name: "rhs", expression: "sum\(right)")])
        let keys = grain.enumerated().map { "g.\(identifier: "k\($0)") AS \(identifier: $1)" as SQL }.joined(separator: ", ")
        let tolerance = context.tolerance
        return .grouped(GroupedPlan(groupings: [grouping], build: { rows in
            """
            SELECT \(keys), g.lhs, g.rhs, g.lhs - g.rhs AS difference FROM (\(rows[0])) g
            WHERE coalesce(abs(g.lhs - g.rhs) > \(tolerance), true)
            """
        }, output: .failingRows(count: "count(*)", columns: grain + ["lhs", "rhs", "difference"])))
    }
}
