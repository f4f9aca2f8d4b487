import Postgres

/// `cross_period`: a coarse row whose measure differs from the sum of its fine rows, or a period
/// on one side only (hour -> day in the business time zone, day -> month).
struct CrossPeriodCheck: CheckType {
    static let name = "cross_period"
    static let keys: Set<String> = ["fine", "coarse", "rollup", "keys", "measures"]
    static let table = TableSource.sides
    static let weight = 4
    static let scoping = PeriodScoping.refused("cross_period is scoped by the 'period' of its sides, not by a 'period' of its own")
    let fine: TableSide
    let coarse: TableSide
    /// `day` (hour -> day) or `month` (day -> month).
    let rollup: String
    let keys: [String]
    let measures: [String]

    init(_ fields: FieldReader) throws {
        rollup = try fields.string("rollup")
        guard rollup == "day" || rollup == "month" else { throw fields.failure("rollup must be day (hour -> day) or month (day -> month)") }
        fine = try fields.side("fine", needs: ["table", "period"])
        coarse = try fields.side("coarse", needs: ["table", "period"])
        keys = try fields.strings("keys")
        measures = try fields.strings("measures")
    }

    var mainTable: String? { fine.table }

    var stake: SQL? {
        measures.map { "abs(coalesce(\(PlanContext.money("fine_" + $0)), 0) - coalesce(\(PlanContext.money("coarse_" + $0)), 0))" as SQL }
            .joined(separator: " + ")
    }

    /// The coarse side's measures.
    func checkedTotal(_ context: PlanContext) -> SQL? {
        let sum = measures.map { "abs(\(PlanContext.column($0)))" as SQL }.joined(separator: " + ")
        return context.total(of: sum, in: coarse.table, filter: coarse.where.map(PlanContext.fragment) ?? "true")
    }
    var otherTables: [String] { [coarse.table] }

    func columns(table: String) -> [(table: String, columns: [String])] {
        [(fine.table, keys + measures + PlanContext.columnNames([fine.period])),
         (coarse.table, keys + measures + PlanContext.columnNames([coarse.period]))]
    }

    func plan(_ context: PlanContext) throws -> CheckPlan {
        let finePeriod = PlanContext.column(fine.period ?? "")
        let coarsePeriod = PlanContext.column(coarse.period ?? "")
        let bucket: SQL
        if rollup == "day" {
            bucket = context.type(of: fine.period ?? "", in: fine.table).contains("with time zone")
                ? "(\(finePeriod) AT TIME ZONE \(literal: context.zone))::date" : "\(finePeriod)::date"
        } else {
            bucket = "date_trunc('month', \(finePeriod))::date"
        }
        let keyList = PlanContext.columns(keys)
        let sums = measures.map { "sum(\(PlanContext.column($0))) AS \(PlanContext.column($0))" as SQL }.joined(separator: ", ")
        let join = (keys.map { "f.\(identifier: $0) = c.\(identifier: $0)" as SQL } + ["f.period = c.period"]).joined(separator: " AND ")
        let shown = keys.map { "coalesce(f.\(identifier: $0), c.\(identifier: $0)) AS \(identifier: $0)" as SQL }
            + ["coalesce(f.period, c.period) AS period"]
            + measures.flatMap { ["f.\(identifier: $0) AS \(identifier: "fine_" + $0)", "c.\(identifier: $0) AS \(identifier: "coarse_" + $0)"] as [SQL] }
        let differs = measures.map { "coalesce(abs(f.\(identifier: $0) - c.\(identifier: $0)) > \(context.tolerance), true)" as SQL }
        let scoped: SQL = context.scope.map {
            " AND " + $0.predicate(on: "coalesce(f.period, c.period)", type: "date", grain: rollup == "month" ? "month" : nil)
        } ?? ""
        return .failingRows(query: """
            WITH f AS (SELECT \(keyList), \(bucket) AS period, \(sums) FROM \(context.relation)
                       WHERE \(fine.where.map(PlanContext.fragment) ?? context.filter) GROUP BY \(keyList), \(bucket)),
                 c AS (SELECT \(keyList), \(coarsePeriod)::date AS period, \(sums) FROM \(context.relation(coarse.table))
                       WHERE \(coarse.where.map(PlanContext.fragment) ?? "true") GROUP BY \(keyList), \(coarsePeriod))
            SELECT \(shown.joined(separator: ", "))
            FROM f FULL JOIN c ON \(join)
            WHERE (f.period IS NULL OR c.period IS NULL OR \(differs.joined(separator: " OR ")))\(scoped)
            """, count: "count(*)", observed: nil)
    }
}
