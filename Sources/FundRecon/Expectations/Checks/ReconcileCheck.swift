import Postgres

/// `reconcile`: two sources summed per key (and per `match_also` column) and every key classified
/// as matched, missing on one side, an amount mismatch, or late (outside `date_window`). Failing
/// rows are all but the matched keys; an empty side is an error, never a pass.
struct ReconcileCheck: CheckType {
    static let name = "reconcile"
    static let keys: Set<String> = ["left", "right", "date_window", "match_also"]
    static let table = TableSource.sides
    static let weight = 4
    static let scoping = PeriodScoping.refused("reconcile is scoped by the 'period' of its sides, not by a 'period' of its own")
    /// The classes, in the order reports list them.
    static let classes = ["matched", "missing_right", "missing_left", "amount_mismatch", "late"]
    let left: TableSide
    let right: TableSide
    let windowDays: Int?
    let matchAlso: [String]

    init(_ fields: FieldReader) throws {
        windowDays = try fields.optionalString("date_window").map { try fields.days($0, key: "date_window") }
        left = try fields.side("left", needs: ["table", "keys", "amount"])
        right = try fields.side("right", needs: ["table", "keys", "amount"])
        matchAlso = try fields.optionalStrings("match_also") ?? []
    }

    var mainTable: String? { left.table }
    var otherTables: [String] { [right.table] }

    func columns(table: String) -> [(table: String, columns: [String])] {
        [(left.table, left.keys + matchAlso + PlanContext.columnNames([left.amount, left.date])),
         (right.table, right.keys + matchAlso + PlanContext.columnNames([right.amount, right.date]))]
    }

    /// One side summed per key: `k0, k1 ...`, the `m_` columns of `match_also`, amount, first date, lines, first period.
    func side(_ side: TableSide, _ relation: SQL) -> SQL {
        let keys = side.keys.enumerated().map { "\(PlanContext.column($1)) AS \(identifier: "k\($0)")" as SQL }
            + matchAlso.map { "\(PlanContext.column($0)) AS \(identifier: "m_" + $0)" as SQL }
        let date: SQL = side.date.map { "min\(PlanContext.fragment($0))" } ?? "NULL"
        let period: SQL = side.period.map { "min(\(PlanContext.column($0)))" } ?? "NULL"
        return """
            SELECT \(keys.joined(separator: ", ")), sum\(PlanContext.fragment(side.amount ?? "0")) AS amount, \(date) AS date, \
            count(*) AS lines, \(period) AS _period
            FROM \(relation) WHERE \(side.where.map(PlanContext.fragment) ?? "true") GROUP BY \(PlanContext.columns(side.keys + matchAlso))
            """
    }

    func plan(_ context: PlanContext) throws -> CheckPlan {
        let count = left.keys.count
        let joinKeys = (0..<count).map { "l.\(identifier: "k\($0)") = r.\(identifier: "k\($0)")" as SQL }
            + matchAlso.map { "l.\(identifier: "m_" + $0) = r.\(identifier: "m_" + $0)" as SQL }
        let shownKeys = (0..<count).map { "coalesce(l.\(identifier: "k\($0)"), r.\(identifier: "k\($0)")) AS \(identifier: left.keys[$0])" as SQL }
            + matchAlso.map { "coalesce(l.\(identifier: "m_" + $0), r.\(identifier: "m_" + $0)) AS \(identifier: $0)" as SQL }
        let late: SQL = windowDays.map { " WHEN abs(r.date::date - l.date::date) > \(integer: $0) THEN 'late'" } ?? ""
        // Scoped: pairs are classified over all rows (a settlement may fall in the next period),
        // then kept when their left period (for a right-only key, the right period or date) lies
        // in the run's period, moved back by the date window: those pairs' windows closed.
        let rightPlace: SQL = right.period != nil ? "r._period" : "r.date"
        let scopedPairs: SQL? = left.period == nil ? nil : context.scope.map { scope in
            scope.predicate(on: "coalesce(l._period::date, \(rightPlace)::date)", type: "date", grain: nil, lagDays: windowDays ?? 0)
        }
        let pairFilter: SQL = scopedPairs.map { "\n                   WHERE \($0)" } ?? ""
        let classified: SQL = """
            WITH l AS (\(side(left, context.relation))),
                 r AS (\(side(right, context.relation(right.table)))),
                 classified AS (
                   SELECT \(shownKeys.joined(separator: ", ")),
                          l.amount AS left_amount, r.amount AS right_amount,
                          coalesce(r.amount, 0) - coalesce(l.amount, 0) AS difference,
                          l.date AS left_date, r.date AS right_date,
                          CASE WHEN r.k0 IS NULL THEN 'missing_right' WHEN l.k0 IS NULL THEN 'missing_left'
                               WHEN coalesce(abs(l.amount - r.amount) > \(context.tolerance), true) THEN 'amount_mismatch'\(late)
                               ELSE 'matched' END AS class
                   FROM l FULL JOIN r ON \(joinKeys.joined(separator: " AND "))\(pairFilter))
            """
        let shown = left.keys + matchAlso + ["left_amount", "right_amount", "difference", "left_date", "right_date", "class"]
        let nulls = shown.map { _ in "NULL::text" as SQL }.joined(separator: ", ")
        let texts = shown.map { "\(identifier: $0)::text" as SQL }.joined(separator: ", ")
        let statement: SQL = classified + """

            ,    figures AS (SELECT class, count(*) AS n, coalesce(sum(coalesce(left_amount, right_amount)), 0) AS amount,
                                    sum(count(*)) FILTER (WHERE class <> 'missing_left') OVER () AS left_keys,
                                    sum(count(*)) FILTER (WHERE class <> 'missing_right') OVER () AS right_keys
                             FROM classified GROUP BY class)
            SELECT 'class' AS _kind, class AS _class, n::text AS _count, amount::text AS _amount,
                   coalesce(left_keys, 0)::text AS _left, coalesce(right_keys, 0)::text AS _right, \(nulls)
            FROM figures
            UNION ALL
            (SELECT 'row', NULL, NULL, NULL, NULL, NULL, \(texts)
             FROM classified WHERE class <> 'matched' LIMIT \(integer: max(1, context.spec.sampleSize)))
            """
        return .classified(statement: statement, display: classified + "\nSELECT * FROM classified WHERE class <> 'matched'",
                           sampleColumns: shown, scopedPairs: scopedPairs != nil)
    }
}
