import Foundation
import Postgres
import Testing

@testable import FundRecon

/// Compiles expectations against a catalog written here: no server.
struct CheckCompiler {
    static let schemas = RunSchemas(prefix: "w")
    static let catalog = TableCatalog(columns: [
        "\"w_dwd\".\"dwd_t\"": ["id": "integer", "name": "text", "status": "text", "amount": "numeric(18,2)", "qty": "integer",
                                "d": "date", "at": "timestamp with time zone", "ref": "text", "currency": "text"],
        "\"w_dwd\".\"dwd_p\"": ["id": "integer", "ref": "text", "amt": "numeric(18,2)", "d": "date", "currency": "text"],
        "\"w_dws\".\"dws_h\"": ["m": "integer", "hour_start": "timestamp with time zone", "v": "numeric(18,2)"],
        "\"w_dws\".\"dws_d\"": ["m": "integer", "biz_date": "date", "v": "numeric(18,2)"],
        "\"w_ads\".\"ads_b\"": ["m": "integer", "biz_date": "date", "opening": "numeric(18,2)", "closing": "numeric(18,2)"],
    ])

    /// The one check of `yaml` (a list item), compiled.
    static func compile(_ yaml: String, scope: CheckScope? = nil) throws -> CompiledCheck {
        let file = try ExpectationsParser.parse(text: "version: 1\nchecks:\n" + yaml, file: "t.yml")
        var engine = CheckEngine(resolver: TableResolver(schemas: schemas, project: nil))
        engine.businessTimeZone = "Europe/Berlin"
        engine.scope = scope
        return try #require(try engine.compile(file, catalog: catalog).first)
    }
}

@Suite("Every check type compiles to the SQL it documents, with no server")
struct CheckSQLTests {
    func expectRows(_ yaml: String, _ predicate: String, extras: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let check = try CheckCompiler.compile(yaml + "\n")
        guard case .rows(let actual, let actualExtras, _) = check.plan else {
            Issue.record("not a row-level plan", sourceLocation: sourceLocation)
            return
        }
        #expect(actual.text == predicate, sourceLocation: sourceLocation)
        #expect(actualExtras?.text == extras, sourceLocation: sourceLocation)
        #expect(check.displaySQL.parameters.isEmpty, "generated SQL binds no value: it is shown and run as it is", sourceLocation: sourceLocation)
    }

    func expectQuery(_ yaml: String, count: String, _ query: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let check = try CheckCompiler.compile(yaml + "\n")
        let (actual, actualCount): (SQL, SQL)
        switch check.plan {
        case .failingRows(let query, let count, _): (actual, actualCount) = (query, count)
        case .grouped(let plan):
            guard case .failingRows(let count, _) = plan.output else { Issue.record("not failing rows"); return }
            (actual, actualCount) = (plan.alone, count)
        default:
            Issue.record("not a failing-rows plan", sourceLocation: sourceLocation)
            return
        }
        #expect(actual.text == query, sourceLocation: sourceLocation)
        #expect(actualCount.text == count, sourceLocation: sourceLocation)
        #expect(actual.parameters.isEmpty, sourceLocation: sourceLocation)
    }

    @Test func rowLevelTypesArePredicatesForTheFusedScan() throws {
        try expectRows("  - {id: c, type: not_null, table: dwd_t, columns: [name, status]}",
                       "(true AND (\"name\" IS NULL OR \"status\" IS NULL))")
        try expectRows("  - {id: c, type: accepted_values, table: dwd_t, column: status, values: [paid, \"it's\"], allow_null: false}",
                       "(true AND (\"status\" IS NULL OR (\"status\" IS NOT NULL AND \"status\"::text NOT IN ('paid', 'it''s'))))")
        try expectRows("  - {id: c, type: range, table: dwd_t, column: amount, min: 0, max: 100.5}",
                       "(true AND (\"amount\" < 0 OR \"amount\" > 100.5))")
        try expectRows("  - {id: c, type: expression, table: dwd_t, expression: \"amount <= qty * 10\"}",
                       "(true AND (NOT coalesce((amount <= qty * 10), false)))")
        try expectRows("  - {id: c, type: balance, table: dwd_t, lhs: amount, rhs: \"qty * 2\", tolerance: 0.01}",
                       "(true AND (coalesce(abs((amount) - (qty * 2)) > 0.01, true)))", extras: "(amount) AS lhs, (qty * 2) AS rhs, (amount) - (qty * 2) AS difference")
    }

    @Test func setLevelTypesAreQueriesOfTheirFailingRows() throws {
        try expectQuery("  - {id: c, type: unique, table: dwd_t, columns: [id], where: \"status = 'paid'\"}", count: "sum(occurrences)", """
            SELECT g."k0" AS "id", g.lines AS occurrences FROM (SELECT "id" AS "k0", count(*) AS lines FROM "w_dwd"."dwd_t" \
            WHERE (status = 'paid') GROUP BY "id") g WHERE g.lines > 1
            """)
        try expectQuery("  - {id: c, type: relationships, table: dwd_t, columns: [id], to: {table: dwd_p, columns: [id], where: \"amt > 0\"}}", count: "count(*)", """
            SELECT c."id" FROM "w_dwd"."dwd_t" c
            LEFT JOIN (SELECT "id" FROM "w_dwd"."dwd_p" WHERE (amt > 0)) p ON p."id" = c."id"
            WHERE true AND c."id" IS NOT NULL AND p."id" IS NULL
            """)
        try expectQuery("  - {id: c, type: row_count, table: dwd_t, min: 1, max: 9, equals: {table: dwd_p, where: \"amt > 0\"}}", count: "sum(difference)", """
            SELECT * FROM (
              SELECT n.row_count, n.expected, 1 AS min, 9 AS max,
                     greatest(1 - n.row_count, 0) + greatest(n.row_count - 9, 0) + abs(n.row_count - n.expected) AS difference
              FROM (SELECT n.row_count, e.expected
            FROM (SELECT count(*) AS row_count FROM "w_dwd"."dwd_t" WHERE true) n CROSS JOIN (SELECT count(*) AS expected FROM "w_dwd"."dwd_p" WHERE (amt > 0)) e) n
            ) r WHERE r.difference > 0
            """)
        try expectQuery("  - {id: c, type: balance, table: dwd_t, lhs: amount, rhs: qty, grain: [status]}", count: "count(*)", """
            SELECT g."k0" AS "status", g.lhs, g.rhs, g.lhs - g.rhs AS difference FROM (SELECT "status" AS "k0", sum(amount) AS "lhs", \
            sum(qty) AS "rhs", count(*) AS lines FROM "w_dwd"."dwd_t" WHERE true GROUP BY "status") g
            WHERE coalesce(abs(g.lhs - g.rhs) > 0, true)
            """)
        try expectQuery("  - {id: c, type: cross_period, fine: {table: dws_h, period: hour_start}, coarse: {table: dws_d, period: biz_date}, rollup: day, keys: [m], measures: [v]}", count: "count(*)", """
            WITH f AS (SELECT "m", ("hour_start" AT TIME ZONE 'Europe/Berlin')::date AS period, sum("v") AS "v" FROM "w_dws"."dws_h"
                       WHERE true GROUP BY "m", ("hour_start" AT TIME ZONE 'Europe/Berlin')::date),
                 c AS (SELECT "m", "biz_date"::date AS period, sum("v") AS "v" FROM "w_dws"."dws_d"
                       WHERE true GROUP BY "m", "biz_date")
            SELECT coalesce(f."m", c."m") AS "m", coalesce(f.period, c.period) AS period, f."v" AS "fine_v", c."v" AS "coarse_v"
            FROM f FULL JOIN c ON f."m" = c."m" AND f.period = c.period
            WHERE (f.period IS NULL OR c.period IS NULL OR coalesce(abs(f."v" - c."v") > 0, true))
            """)
        try expectQuery("  - {id: c, type: continuity, table: ads_b, keys: [m], period: biz_date, step: 1 day, opening: opening, closing: closing}", count: "count(*)", """
            SELECT * FROM (
              SELECT "m", "biz_date" AS period, "opening" AS opening,
                     lag("closing") OVER w AS previous_closing, lag("biz_date") OVER w AS previous_period
              FROM "w_ads"."ads_b" WHERE true
              WINDOW w AS (PARTITION BY "m" ORDER BY "biz_date")
            ) s
            WHERE s.previous_period IS NOT NULL
              AND (coalesce(abs(s.opening - s.previous_closing) > 0, true)
                   OR s.period::date - s.previous_period::date <> 1)
            """)
        try expectQuery("  - {id: c, type: freshness, table: dwd_t, column: at, max_age: 36 hours}", count: "count(*)", """
            SELECT * FROM (SELECT max("at") AS newest, current_setting('recon.as_of')::timestamptz AS as_of
                           FROM "w_dwd"."dwd_t" WHERE true) f
            WHERE f.newest IS NULL OR f.newest::timestamptz < f.as_of - interval '129600 seconds'
            """)
        try expectQuery("  - {id: c, type: sql, query: \"select id from dwd_t where amount < 0;\"}", count: "count(*)", """
            select id from dwd_t where amount < 0
            """)
    }

    @Test func reconcileIsOneStatementOfClassesAndFailingKeys() throws {
        let check = try CheckCompiler.compile("  - {id: c, type: reconcile, left: {table: dwd_t, keys: [ref], amount: amount, date: d, where: \"status = 'paid'\"}, right: {table: dwd_p, keys: [ref], amount: amt, date: d}, match_also: [currency], date_window: 3 days}\n")
        guard case .grouped(let plan) = check.plan, case .classified(let columns, let scopedPairs, _) = plan.output else {
            Issue.record("not a classified plan")
            return
        }
        let (statement, display) = (plan.alone, check.displaySQL)
        #expect(display.text == """
            WITH l AS (SELECT "ref" AS "k0", "currency" AS "k1", sum(amount) AS "amount", min(d) AS "date", count(*) AS lines \
            FROM "w_dwd"."dwd_t" WHERE (status = 'paid') GROUP BY "ref", "currency"),
                 r AS (SELECT "ref" AS "k0", "currency" AS "k1", sum(amt) AS "amount", min(d) AS "date", count(*) AS lines \
            FROM "w_dwd"."dwd_p" WHERE true GROUP BY "ref", "currency"),
                 classified AS (
                   SELECT coalesce(l."k0", r."k0") AS "ref", coalesce(l."k1", r."k1") AS "currency",
                          l.amount AS left_amount, r.amount AS right_amount,
                          coalesce(r.amount, 0) - coalesce(l.amount, 0) AS difference,
                          l.date AS left_date, r.date AS right_date,
                          CASE WHEN r.k0 IS NULL THEN 'missing_right' WHEN l.k0 IS NULL THEN 'missing_left'
                               WHEN coalesce(abs(l.amount - r.amount) > 0, true) THEN 'amount_mismatch' \
            WHEN abs(r.date::date - l.date::date) > 3 THEN 'late'
                               ELSE 'matched' END AS class
                   FROM l FULL JOIN r ON l."k0" = r."k0" AND l."k1" = r."k1")
            SELECT * FROM classified WHERE class <> 'matched'
            """)
        #expect(statement.text.hasPrefix(display.text.components(separatedBy: "\nSELECT * FROM classified")[0]))
        #expect(statement.text.hasSuffix("FROM classified WHERE class <> 'matched' ORDER BY classified::text LIMIT 20)"))
        // With currency among its keys, each class's amount per currency, from one pass by class and currency.
        #expect(statement.text.contains("per AS (SELECT class, currency::text AS cur, count(*) AS n,"))
        #expect(statement.text.contains("jsonb_object_agg(cur, amount::text)::text AS amounts"))
        #expect(columns == ["ref", "currency", "left_amount", "right_amount", "difference", "left_date", "right_date", "class"])
        #expect(!scopedPairs)
        #expect(statement.parameters.isEmpty)
    }

    @Test func aSQLCheckWithoutTableTakesTheHighestLayerItsQueryNames() throws {
        let plain = try CheckCompiler.compile("  - {id: c, type: sql, query: \"select d.id from dwd_t d join ads_b b on b.m = d.id\"}\n")
        #expect(plain.layer == .layer(.ads))
        #expect(plain.table == "ads")
        let declared = try CheckCompiler.compile("  - {id: c, type: sql, layer: dws, query: \"select 1 from dwd_t where false\"}\n")
        #expect(declared.layer == .layer(.dws))
        let tabled = try CheckCompiler.compile("  - {id: c, type: sql, table: dwd_p, query: \"select 1 from dws_h where false\"}\n")
        #expect(tabled.layer == .layer(.dws))
        #expect(tabled.table == "dwd_p")
        #expect(throws: ExpectationsError.self) {
            try CheckCompiler.compile("  - {id: c, type: sql, layer: gold, query: \"select 1\"}\n")
        }
    }

    @Test func aScopedRunKeepsThePeriodsRows() throws {
        let scope = CheckScope(period: try Period(parsing: "2026-10-03", grain: .day), zone: "Europe/Berlin")
        let dated = try CheckCompiler.compile("  - {id: c, type: not_null, table: dwd_t, columns: [name], period: d}\n", scope: scope)
        guard case .rows(let predicate, _, let periodRows) = dated.plan else { Issue.record("not row-level"); return }
        #expect(predicate.text == "(true AND (\"d\" >= DATE '2026-10-03' AND \"d\" < DATE '2026-10-04') AND (\"name\" IS NULL))")
        // the table's scan reads the period's rows only (by the period column's index)
        #expect(periodRows?.text == "(\"d\" >= DATE '2026-10-03' AND \"d\" < DATE '2026-10-04')")
        let timed = try CheckCompiler.compile("  - {id: c, type: not_null, table: dwd_t, columns: [name], period: at}\n", scope: scope)
        guard case .rows(let instants, _, _) = timed.plan else { Issue.record("not row-level"); return }
        #expect(instants.text.contains("\"at\" >= (TIMESTAMP '2026-10-03 00:00:00' AT TIME ZONE 'Europe/Berlin') AND \"at\" < (TIMESTAMP '2026-10-04 00:00:00' AT TIME ZONE 'Europe/Berlin')"))
        // The table's scan reads the period's rows only, by the period column's index (it read the
        // whole table and counted the period's failures: an hourly run's row checks scanned every row).
        let other = try CheckCompiler.compile("  - {id: e, type: range, table: dwd_t, column: amount, min: 0, period: d}\n", scope: scope)
        let members = [dated, other].map { check -> CheckEngine.RowMember in
            guard case .rows(let predicate, let extras, let rows) = check.plan else { fatalError("not row-level") }
            return CheckEngine.RowMember(check: check, predicate: predicate, extras: extras, scope: rows)
        }
        let scan = CheckEngine.rowScan(members).text
        #expect(scan.hasPrefix("SELECT count(*) FILTER (WHERE (true AND (\"d\" >= DATE '2026-10-03'"))
        #expect(scan.hasSuffix("FROM \"w_dwd\".\"dwd_t\" WHERE (\"d\" >= DATE '2026-10-03' AND \"d\" < DATE '2026-10-04')"))
        let unscoped = try CheckCompiler.compile("  - {id: c, type: not_null, table: dwd_t, columns: [name], period: d}\n")
        guard case .rows(let whole, _, let none) = unscoped.plan else { Issue.record("not row-level"); return }
        #expect(none == nil)
        #expect(CheckEngine.rowScan([CheckEngine.RowMember(check: unscoped, predicate: whole, extras: nil, scope: none)]).text
                    .hasSuffix("FROM \"w_dwd\".\"dwd_t\""))
        // Continuity scopes its outer query: each day of the period still sees the day before.
        let continuity = try CheckCompiler.compile(
            "  - {id: c, type: continuity, table: ads_b, keys: [m], period: biz_date, opening: opening, closing: closing}\n", scope: scope)
        guard case .failingRows(let query, _, _) = continuity.plan else { Issue.record("not failing rows"); return }
        #expect(query.text.contains("FROM \"w_ads\".\"ads_b\" WHERE true\n"))
        #expect(query.text.hasSuffix("AND (s.period >= DATE '2026-10-03' AND s.period < DATE '2026-10-04')"))
    }

    /// Checks that group one table by the same keys each group it in their own statement (a
    /// MATERIALIZED pass shared between them cost more than it saved), and the set-level checks
    /// are taken heaviest type first, in the file's order within a weight.
    @Test func setLevelChecksRunAloneHeaviestFirst() throws {
        let file = try ExpectationsParser.parse(text: """
            version: 1
            checks:
              - {id: keys, type: unique, table: dwd_t, columns: [ref]}
              - {id: rec, type: reconcile, left: {table: dwd_t, keys: [ref], amount: amount, where: "status = 'paid'"}, \
            right: {table: dwd_p, keys: [ref], amount: amt}}
              - {id: alone, type: unique, table: dwd_p, columns: [id]}
              - {id: roll, type: cross_period, fine: {table: dws_h, period: hour_start}, coarse: {table: dws_d, period: biz_date}, \
            rollup: day, keys: [m], measures: [v]}
            """, file: "t.yml")
        let compiled = try CheckEngine(resolver: TableResolver(schemas: CheckCompiler.schemas, project: nil))
            .compile(file, catalog: CheckCompiler.catalog)
        #expect(CheckEngine.heaviestFirst(compiled).map(\.spec.id) == ["rec", "roll", "keys", "alone"])
        for check in compiled {
            guard case .grouped(let plan) = check.plan else { continue }
            #expect(!plan.alone.text.contains("MATERIALIZED (SELECT"), "\(check.spec.id)")
        }
        guard case .grouped(let keys) = compiled[0].plan, case .grouped(let rec) = compiled[1].plan else {
            Issue.record("not grouped"); return
        }
        #expect(keys.alone.text.contains("FROM \"w_dwd\".\"dwd_t\" WHERE true GROUP BY \"ref\""))
        #expect(rec.alone.text.contains("FROM \"w_dwd\".\"dwd_t\" WHERE (status = 'paid') GROUP BY \"ref\""))
    }

    @Test func everyTypeOfTheLanguageIsRegisteredOnce() {
        let names = CheckTypes.all.map { $0.name }
        #expect(names == ["not_null", "unique", "accepted_values", "range", "expression", "relationships", "row_count", "balance",
                          "reconcile", "cross_period", "continuity", "freshness", "sql"])
        #expect(Set(names).count == names.count)
        for type in CheckTypes.all { #expect(type.keys.isDisjoint(with: ExpectationsParser.commonKeys.subtracting(["period"])), "\(type.name)") }
    }
}
