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

    var stake: SQL? { "abs(\(PlanContext.money("difference")))" }

    /// The left side's amounts per currency (a key or `match_also` column named `currency`).
    func checkedTotal(_ context: PlanContext) -> SQL? {
        let grouping = grouping(left, context.relation)
        let currency: SQL = (left.keys + matchAlso).firstIndex(of: "currency").map { "g.\(identifier: "k\($0)")::text" } ?? "''::text"
        return "SELECT \(currency), coalesce(sum(abs(g.amount)), 0) FROM (\(grouping.alone)) g GROUP BY 1"
    }
    var otherTables: [String] { [right.table] }

    func columns(table: String) -> [(table: String, columns: [String])] {
        [(left.table, left.keys + matchAlso + PlanContext.columnNames([left.amount, left.date])),
         (right.table, right.keys + matchAlso + PlanContext.columnNames([right.amount, right.date]))]
    }

    /// One side as a grouping: its keys and the `match_also` columns, its amount summed, its first
    /// date and period (when it has them), over the rows its `where` keeps.
    func grouping(_ side: TableSide, _ relation: SQL) -> Grouping {
        var aggregates = [Grouping.Aggregate(name: "amount", expression: "sum\(PlanContext.fragment(side.amount ?? "0"))")]
        if let date = side.date { aggregates.append(.init(name: "date", expression: "min\(PlanContext.fragment(date))")) }
        if let period = side.period { aggregates.append(.init(name: "_period", expression: "min(\(PlanContext.column(period)))")) }
        return Grouping(relation: relation, keys: side.keys + matchAlso, filter: side.where.map(PlanContext.fragment) ?? "true",
                        aggregates: aggregates)
    }

    func plan(_ context: PlanContext) throws -> CheckPlan {
        var (leftSide, rightSide) = (grouping(left, context.relation), grouping(right, context.relation(right.table)))
        let names = left.keys + matchAlso
        let key = { (index: Int) -> SQL in "\(identifier: "k\(index)")" }
        let joinKeys = names.indices.map { "l.\(key($0)) = r.\(key($0))" as SQL }
        let shownKeys = names.indices.map { "coalesce(l.\(key($0)), r.\(key($0))) AS \(identifier: names[$0])" as SQL }
        let leftDate: SQL = left.date == nil ? "NULL::date" : "l.date"
        let rightDate: SQL = right.date == nil ? "NULL::date" : "r.date"
        let late: SQL = windowDays.map { " WHEN abs(\(rightDate)::date - \(leftDate)::date) > \(integer: $0) THEN 'late'" } ?? ""
        // Scoped: pairs are classified over all rows (a settlement may fall in the next period),
        // then kept when their left period (for a right-only key, the right period or date) is a
        // day whose window closed during the run's period (`CheckScope.windowClosed`).
        let rightPlace: SQL = right.period != nil ? "r._period" : rightDate
        let scopedPairs: SQL? = left.period == nil ? nil : context.scope.map { scope in
            scope.windowClosed(on: "coalesce(l._period::date, \(rightPlace)::date)", windowDays: windowDays ?? 0)
        }
        let pairFilter: SQL = scopedPairs.map { "\n                   WHERE \($0)" } ?? ""
        // On one PostgreSQL a scoped statement computes its candidate keys once (`KeyedCandidates`).
        var candidatesCTE: SQL = ""
        if scopedPairs != nil, let scope = context.scope, let period = left.period {
            // Only keys that can make a kept pair are read: those with a left row on a day whose
            // window closed, or a right row there (by its period, else its date). Every row of
            // such a key is read, so its sums and first dates are the whole table's.
            let window = windowDays ?? 0
            let (leftKeys, rightKeys) = (PlanContext.columns(left.keys + matchAlso), PlanContext.columns(right.keys + matchAlso))
            var candidates: SQL = """
                SELECT \(leftKeys) FROM \(leftSide.relation) WHERE (\(leftSide.filter)) AND \(
                    scope.windowClosed(on: PlanContext.column(period), windowDays: window))
                """
            if let place = right.period ?? right.date {
                candidates = candidates + """

                    UNION SELECT \(rightKeys) FROM \(rightSide.relation) WHERE (\(rightSide.filter)) AND \(
                        scope.windowClosed(on: PlanContext.fragment(place), windowDays: window))
                    """
            }
            if context.catalog.layouts.isEmpty {
                let keyed = KeyedCandidates(name: "_candidates", count: names.count)
                candidatesCTE = "\(keyed.name) (\(keyed.columns)) AS MATERIALIZED (\(candidates)),\n     "
                leftSide.within = keyed.reading(leftSide, identity: left.keys, period: left.period, catalog: context.catalog)
                rightSide.within = keyed.reading(rightSide, identity: right.keys, period: right.period, catalog: context.catalog)
            } else {
                // On Citus the candidates stay an uncorrelated IN on each side, which the shards run.
                leftSide.within = .condition("(\(leftKeys)) IN (\(candidates))")
                rightSide.within = .condition("(\(rightKeys)) IN (\(candidates))")
            }
        }
        let tolerance = context.tolerance
        let prelude = candidatesCTE
        // On Citus, with both sides distributed on one co-located key column, the pairs are
        // classified on the workers and only the classes' figures and the sample come back: the
        // classified pairs are inlined (a CTE read twice is otherwise materialized, which Citus
        // gathers, a row per key, on the coordinator). On one PostgreSQL they are materialized,
        // read once for both.
        let onShards = colocatedKey(context) != nil
        let materialization: SQL = onShards ? "NOT MATERIALIZED " : ""
        let classified: @Sendable ([SQL]) -> SQL = { rows in
            """
            WITH \(prelude)l AS (\(rows[0])),
                 r AS (\(rows[1])),
                 classified AS \(materialization)(
                   SELECT \(shownKeys.joined(separator: ", ")),
                          l.amount AS left_amount, r.amount AS right_amount,
                          coalesce(r.amount, 0) - coalesce(l.amount, 0) AS difference,
                          \(leftDate) AS left_date, \(rightDate) AS right_date,
                          CASE WHEN r.k0 IS NULL THEN 'missing_right' WHEN l.k0 IS NULL THEN 'missing_left'
                               WHEN coalesce(abs(l.amount - r.amount) > \(tolerance), true) THEN 'amount_mismatch'\(late)
                               ELSE 'matched' END AS class
                   FROM l FULL JOIN r ON \(joinKeys.joined(separator: " AND "))\(pairFilter))
            """
        }
        let shown = names + ["left_amount", "right_amount", "difference", "left_date", "right_date", "class"]
        let slots = shown.indices.map { "NULL::text AS \(identifier: "s\($0)")" as SQL }.joined(separator: ", ")
        let texts = shown.map { "\(identifier: $0)::text" as SQL }.joined(separator: ", ")
        let sampleSize = max(1, context.spec.sampleSize)
        // With a currency among the keys, each class's amount per currency: never one sum of two
        // currencies. Counted in one pass over the classified keys, by class and currency.
        let currency: SQL = names.contains("currency") ? "currency::text" : "''::text"
        let perCurrency: SQL = names.contains("currency") ? "jsonb_object_agg(cur, amount::text)::text" : "NULL::text"
        let plan = GroupedPlan(groupings: [leftSide, rightSide], build: { rows in
            classified(rows) + """

                ,    per AS (SELECT class, \(currency) AS cur, count(*) AS n,
                                    coalesce(sum(coalesce(left_amount, right_amount)), 0) AS amount
                             FROM classified GROUP BY class, cur),
                     figures AS (SELECT class, sum(n) AS n, sum(amount) AS amount, \(perCurrency) AS amounts,
                                        sum(sum(n)) FILTER (WHERE class <> 'missing_left') OVER () AS left_keys,
                                        sum(sum(n)) FILTER (WHERE class <> 'missing_right') OVER () AS right_keys
                                 FROM per GROUP BY class)
                SELECT 'class' AS _kind, class AS _class, n::text AS _count, amount::text AS _amount,
                       coalesce(left_keys, 0)::text AS _left, coalesce(right_keys, 0)::text AS _right,
                       amounts AS _amounts, \(slots)
                FROM figures
                UNION ALL
                (SELECT 'row', NULL, NULL, NULL, NULL, NULL, NULL, \(texts)
                 FROM classified WHERE class <> 'matched' ORDER BY classified::text LIMIT \(integer: sampleSize))
                """
        }, output: .classified(sampleColumns: shown, scopedPairs: scopedPairs != nil, display: { rows in
            classified(rows) + "\nSELECT * FROM classified WHERE class <> 'matched'"
        }))
        return .grouped(plan)
    }

    /// The index of the key both sides are distributed on, when they are co-located tables of a
    /// Citus cluster distributed on the same key of the pair (orders and payments on order_id):
    /// the sides' groupings and their full join then run within each shard. Nil on one PostgreSQL.
    func colocatedKey(_ context: PlanContext) -> Int? {
        guard let (one, other) = context.catalog.colocation(context.relation.text, context.relation(right.table).text) else { return nil }
        return Array(zip(left.keys + matchAlso, right.keys + matchAlso)).firstIndex { $0 == one && $1 == other }
    }
}
