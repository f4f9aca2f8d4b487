import Foundation
import Postgres

enum CheckCompiler {
    static func literal(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }

    static func columns(_ names: [String], prefix: String = "") -> String {
        names.map { prefix + quoteIdentifier($0) }.joined(separator: ", ")
    }

    /// Compiles a check against resolved tables. `zone` is the business time zone for hour -> day.
    static func compile(_ spec: CheckSpec, resolve: (String) throws -> (relation: String, layer: CheckLayer),
                        catalog: TableCatalog, zone: String, scope: CheckScope? = nil) throws -> CompiledCheck {
        let (relation, layer) = try resolve(spec.table)
        /// The SQL type of a column of `table` (a date when the catalog does not know it).
        func type(of column: String, in table: String) -> String { catalog.columns[table]?[column] ?? "date" }
        var filter = spec.where.map { "(\($0))" } ?? "true"
        // Continuity is scoped on its outer query instead: each period must still see the one before.
        if spec.kind.typeName != "continuity", let scope, let period = spec.period {
            filter += " AND " + scope.predicate(on: quoteIdentifier(period.column), type: type(of: period.column, in: relation),
                                                grain: period.grain)
        }
        let tolerance = spec.tolerance
        var compiled = CompiledCheck(spec: spec, relation: relation, layer: layer, displaySQL: "")
        func rowLevel(_ condition: String) {
            let failing = "(\(filter) AND (\(condition)))"
            compiled.failCondition = failing
            compiled.displaySQL = "SELECT *\(compiled.sampleExtras) FROM \(relation)\nWHERE \(failing)"
        }
        switch spec.kind {
        case .notNull(let names):
            rowLevel(names.map { "\(quoteIdentifier($0)) IS NULL" }.joined(separator: " OR "))
        case .acceptedValues(let column, let values, let allowNull):
            let name = quoteIdentifier(column)
            let list = values.map(literal).joined(separator: ", ")
            rowLevel((allowNull ? "" : "\(name) IS NULL OR ") + "(\(name) IS NOT NULL AND \(name)::text NOT IN (\(list)))")
        case .range(let column, let minimum, let maximum):
            let name = quoteIdentifier(column)
            rowLevel([minimum.map { "\(name) < \($0)" }, maximum.map { "\(name) > \($0)" }].compactMap { $0 }.joined(separator: " OR "))
        case .expression(let expression):
            rowLevel("NOT coalesce((\(expression)), false)")
        case .balance(let lhs, let rhs, let grain) where grain.isEmpty:
            compiled.sampleExtras = ", (\(lhs)) AS lhs, (\(rhs)) AS rhs, (\(lhs)) - (\(rhs)) AS difference"
            rowLevel("coalesce(abs((\(lhs)) - (\(rhs))) > \(tolerance), true)")
        case .balance(let lhs, let rhs, let grain):
            let keys = columns(grain)
            compiled.failingQuery = """
                SELECT \(keys), sum(\(lhs)) AS lhs, sum(\(rhs)) AS rhs, sum(\(lhs)) - sum(\(rhs)) AS difference
                FROM \(relation) WHERE \(filter)
                GROUP BY \(keys)
                HAVING coalesce(abs(sum(\(lhs)) - sum(\(rhs))) > \(tolerance), true)
                """
        case .unique(let names):
            let keys = columns(names)
            compiled.failingQuery = """
                SELECT \(keys), count(*) AS occurrences FROM \(relation) WHERE \(filter)
                GROUP BY \(keys) HAVING count(*) > 1
                """
            compiled.failingCount = "sum(occurrences)"
        case .relationships(let names, let target):
            let (targetRelation, _) = try resolve(target.table)
            let join = zip(names, target.keys).map { "p.\(quoteIdentifier($1)) = c.\(quoteIdentifier($0))" }.joined(separator: " AND ")
            let present = names.map { "c.\(quoteIdentifier($0)) IS NOT NULL" }.joined(separator: " AND ")
            compiled.failingQuery = """
                SELECT \(columns(names, prefix: "c.")) FROM \(relation) c
                WHERE \(filter) AND \(present)
                  AND NOT EXISTS (SELECT 1 FROM \(targetRelation) p WHERE \(join)\(target.where.map { " AND (\($0))" } ?? ""))
                """
        case .rowCount(let minimum, let maximum, let equals):
            var expected = "NULL::bigint"
            if let equals {
                let (other, _) = try resolve(equals.table)
                expected = "(SELECT count(*) FROM \(other) WHERE \(equals.where.map { "(\($0))" } ?? "true"))"
            }
            let shortfall = minimum.map { "greatest(\($0) - n.row_count, 0)" } ?? "0"
            let excess = maximum.map { "greatest(n.row_count - \($0), 0)" } ?? "0"
            let difference = equals == nil ? "0" : "abs(n.row_count - n.expected)"
            compiled.failingQuery = """
                SELECT * FROM (
                  SELECT n.row_count, n.expected, \(minimum.map(String.init) ?? "NULL") AS min, \(maximum.map(String.init) ?? "NULL") AS max,
                         \(shortfall) + \(excess) + \(difference) AS difference
                  FROM (SELECT count(*) AS row_count, \(expected) AS expected FROM \(relation) WHERE \(filter)) n
                ) r WHERE r.difference > 0
                """
            compiled.failingCount = "sum(difference)"
            compiled.observedQuery = "SELECT count(*) AS row_count, \(expected) AS expected FROM \(relation) WHERE \(filter)"
        case .reconcile(let left, let right, let window, let matchAlso):
            let (rightRelation, _) = try resolve(right.table)
            func side(_ s: TableSide, _ relationName: String, _ extra: [String]) -> String {
                let keys = s.keys.enumerated().map { "\(quoteIdentifier($1)) AS k\($0)" } + extra.map { "\(quoteIdentifier($0)) AS \(quoteIdentifier("m_" + $0))" }
                let groups = (s.keys + extra).map(quoteIdentifier).joined(separator: ", ")
                return """
                    SELECT \(keys.joined(separator: ", ")), sum(\(s.amount ?? "0")) AS amount, \(s.date.map { "min(\($0))" } ?? "NULL") AS date, count(*) AS lines, \(s.period.map { "min(\(quoteIdentifier($0)))" } ?? "NULL") AS _period
                    FROM \(relationName) WHERE \(s.where.map { "(\($0))" } ?? "true") GROUP BY \(groups)
                    """
            }
            let keyCount = left.keys.count
            let joinKeys = (0..<keyCount).map { "l.k\($0) = r.k\($0)" } + matchAlso.map { "l.\(quoteIdentifier("m_" + $0)) = r.\(quoteIdentifier("m_" + $0))" }
            let shownKeys = (0..<keyCount).map { "coalesce(l.k\($0), r.k\($0)) AS \(quoteIdentifier(left.keys[$0]))" }
                + matchAlso.map { "coalesce(l.\(quoteIdentifier("m_" + $0)), r.\(quoteIdentifier("m_" + $0))) AS \(quoteIdentifier($0))" }
            let late = window.map { " WHEN abs(r.date::date - l.date::date) > \($0) THEN 'late'" } ?? ""
            // Scoped: pairs are classified over all rows (a settlement may fall in the next period),
            // then kept when their left period (for a right-only key, the right period or date)
            // lies in the run's period, moved back by the date window: those pairs' windows closed.
            let rightPlace = right.period != nil ? "r._period" : "r.date"
            let scopedPairs = left.period == nil ? nil : scope.map { scope in
                scope.predicate(on: "coalesce(l._period::date, \(rightPlace)::date)", type: "date", grain: nil, lagDays: window ?? 0)
            }
            compiled.scopedPairs = scopedPairs != nil
            let classified = """
                WITH l AS (\(side(left, relation, matchAlso))),
                     r AS (\(side(right, rightRelation, matchAlso))),
                     classified AS (
                       SELECT \(shownKeys.joined(separator: ", ")),
                              l.amount AS left_amount, r.amount AS right_amount,
                              coalesce(r.amount, 0) - coalesce(l.amount, 0) AS difference,
                              l.date AS left_date, r.date AS right_date,
                              CASE WHEN r.k0 IS NULL THEN 'missing_right' WHEN l.k0 IS NULL THEN 'missing_left'
                                   WHEN coalesce(abs(l.amount - r.amount) > \(tolerance), true) THEN 'amount_mismatch'\(late)
                                   ELSE 'matched' END AS class
                       FROM l FULL JOIN r ON \(joinKeys.joined(separator: " AND "))\(scopedPairs.map { "\n                       WHERE " + $0 } ?? ""))
                """
            compiled.failingQuery = classified + "\nSELECT * FROM classified WHERE class <> 'matched'"
            let shown = left.keys + matchAlso + ["left_amount", "right_amount", "difference", "left_date", "right_date", "class"]
            compiled.reconcileColumns = shown
            compiled.reconcileQuery = classified + """
                ,    figures AS (SELECT class, count(*) AS n, coalesce(sum(coalesce(left_amount, right_amount)), 0) AS amount,
                                        sum(count(*)) FILTER (WHERE class <> 'missing_left') OVER () AS left_keys,
                                        sum(count(*)) FILTER (WHERE class <> 'missing_right') OVER () AS right_keys
                                 FROM classified GROUP BY class)
                SELECT 'class' AS _kind, class AS _class, n::text AS _count, amount::text AS _amount,
                       coalesce(left_keys, 0)::text AS _left, coalesce(right_keys, 0)::text AS _right,
                       \(shown.map { _ in "NULL::text" }.joined(separator: ", "))
                FROM figures
                UNION ALL
                (SELECT 'row', NULL, NULL, NULL, NULL, NULL, \(shown.map { quoteIdentifier($0) + "::text" }.joined(separator: ", "))
                 FROM classified WHERE class <> 'matched' LIMIT \(max(1, spec.sampleSize)))
                """
        case .crossPeriod(let fine, let coarse, let rollup, let keys, let measures):
            let (coarseRelation, _) = try resolve(coarse.table)
            let finePeriod = quoteIdentifier(fine.period ?? "")
            let fineType = catalog.columns[relation]?[fine.period ?? ""] ?? ""
            let bucket: String
            if rollup == "day" {
                bucket = fineType.contains("with time zone") ? "(\(finePeriod) AT TIME ZONE \(literal(zone)))::date" : "\(finePeriod)::date"
            } else {
                bucket = "date_trunc('month', \(finePeriod))::date"
            }
            let keyList = columns(keys)
            let sums = measures.map { "sum(\(quoteIdentifier($0))) AS \(quoteIdentifier($0))" }.joined(separator: ", ")
            let join = (keys.map { "f.\(quoteIdentifier($0)) = c.\(quoteIdentifier($0))" } + ["f.period = c.period"]).joined(separator: " AND ")
            let shown = keys.map { "coalesce(f.\(quoteIdentifier($0)), c.\(quoteIdentifier($0))) AS \(quoteIdentifier($0))" }
                + ["coalesce(f.period, c.period) AS period"]
                + measures.flatMap { ["f.\(quoteIdentifier($0)) AS \(quoteIdentifier("fine_" + $0))", "c.\(quoteIdentifier($0)) AS \(quoteIdentifier("coarse_" + $0))"] }
            let differs = measures.map { "coalesce(abs(f.\(quoteIdentifier($0)) - c.\(quoteIdentifier($0))) > \(tolerance), true)" }
            compiled.failingQuery = """
                WITH f AS (SELECT \(keyList), \(bucket) AS period, \(sums) FROM \(relation)
                           WHERE \(fine.where.map { "(\($0))" } ?? filter) GROUP BY \(keyList), \(bucket)),
                     c AS (SELECT \(keyList), \(quoteIdentifier(coarse.period ?? ""))::date AS period, \(sums) FROM \(coarseRelation)
                           WHERE \(coarse.where.map { "(\($0))" } ?? "true") GROUP BY \(keyList), \(quoteIdentifier(coarse.period ?? "")))
                SELECT \(shown.joined(separator: ", "))
                FROM f FULL JOIN c ON \(join)
                WHERE (f.period IS NULL OR c.period IS NULL OR \(differs.joined(separator: " OR ")))\(
                    scope.map { " AND " + $0.predicate(on: "coalesce(f.period, c.period)", type: "date", grain: rollup == "month" ? "month" : nil) }
                        ?? "")
                """
        case .continuity(let keys, let period, let step, let opening, let closing):
            let keyList = columns(keys)
            let periodName = quoteIdentifier(period)
            compiled.failingQuery = """
                SELECT * FROM (
                  SELECT \(keyList), \(periodName) AS period, \(quoteIdentifier(opening)) AS opening,
                         lag(\(quoteIdentifier(closing))) OVER w AS previous_closing, lag(\(periodName)) OVER w AS previous_period
                  FROM \(relation) WHERE \(filter)
                  WINDOW w AS (PARTITION BY \(keyList) ORDER BY \(periodName))
                ) s
                WHERE s.previous_period IS NOT NULL
                  AND (coalesce(abs(s.opening - s.previous_closing) > \(tolerance), true)
                       OR s.period::date - s.previous_period::date <> \(step))\(
                    scope.map { " AND " + $0.predicate(on: "s.period", type: type(of: period, in: relation), grain: nil) } ?? "")
                """
        case .freshness(let column, let maxAge):
            compiled.failingQuery = """
                SELECT * FROM (SELECT max(\(quoteIdentifier(column))) AS newest, current_setting('recon.as_of')::timestamptz AS as_of
                               FROM \(relation) WHERE \(filter)) f
                WHERE f.newest IS NULL OR f.newest::timestamptz < f.as_of - interval '\(maxAge) seconds'
                """
        case .sql(let query):
            compiled.failingQuery = query.trimmingCharacters(in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: ";")))
        }
        if let failing = compiled.failingQuery { compiled.displaySQL = failing }
        return compiled
    }
}
