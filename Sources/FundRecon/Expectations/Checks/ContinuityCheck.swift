import Postgres

/// `continuity`: a period whose opening differs from the previous period's closing, or a period
/// missing between the first and the last, fails.
struct ContinuityCheck: CheckType {
    static let name = "continuity"
    static let keys: Set<String> = ["keys", "period", "step", "opening", "closing"]
    /// Scoped on its outer query, not its rows: each period of the run's must still see the one before.
    static let scoping = PeriodScoping.own
    let keys: [String]
    let period: String
    let stepDays: Int
    let opening: String
    let closing: String

    init(_ fields: FieldReader) throws {
        keys = try fields.strings("keys")
        period = try fields.string("period")
        stepDays = try fields.optionalString("step").map { try fields.days($0, key: "step") } ?? 1
        opening = try fields.string("opening")
        closing = try fields.string("closing")
    }

    var ownPeriod: PeriodColumn? { PeriodColumn(column: period, grain: nil) }

    var stake: SQL? { "abs(coalesce(\(PlanContext.money("opening")), 0) - coalesce(\(PlanContext.money("previous_closing")), 0))" }

    func checkedTotal(_ context: PlanContext) -> SQL? {
        context.total(of: PlanContext.column(closing), in: context.spec.table, filter: context.spec.where.map(PlanContext.fragment) ?? "true")
    }

    func columns(table: String) -> [(table: String, columns: [String])] { [(table, keys + [period, opening, closing])] }

    func plan(_ context: PlanContext) throws -> CheckPlan {
        let keyList = PlanContext.columns(keys)
        let periodName = PlanContext.column(period)
        let scoped: SQL = context.scope.map {
            " AND " + $0.predicate(on: "s.period", type: context.type(of: period, in: context.spec.table), grain: nil)
        } ?? ""
        return .failingRows(query: """
            SELECT * FROM (
              SELECT \(keyList), \(periodName) AS period, \(PlanContext.column(opening)) AS opening,
                     lag(\(PlanContext.column(closing))) OVER w AS previous_closing, lag(\(periodName)) OVER w AS previous_period
              FROM \(context.relation) WHERE \(context.filter)
              WINDOW w AS (PARTITION BY \(keyList) ORDER BY \(periodName))
            ) s
            WHERE s.previous_period IS NOT NULL
              AND (coalesce(abs(s.opening - s.previous_closing) > \(context.tolerance), true)
                   OR s.period::date - s.previous_period::date <> \(integer: stepDays))\(scoped)
            """, count: "count(*)", observed: nil)
    }
}
