import Foundation
import Postgres
import Testing

@testable import FundRecon

/// Small hand-made tables in a fresh run, and a way to evaluate expectations text against them.
final class CheckBench {
    let run: RunSession
    var statements: [String] = []

    /// `layout`: on a Citus coordinator, each table's distribution column (the others become
    /// reference tables), so that the same checks run over shards as over one PostgreSQL's tables.
    init(on target: ConnectionTarget? = nil, layout: [String: String]? = nil) throws {
        run = try RunSession(on: target ?? SharedCluster.target(), logger: quietLogger)
        let dwd = run.schemas.name(.dwd)
        let dws = run.schemas.name(.dws)
        let ads = run.schemas.name(.ads)
        try run.connection.executeScript("""
            SET search_path = "\(dwd)";
            CREATE TABLE dwd_items (id int, name text, status text, amount numeric(18,2), qty int);
            INSERT INTO dwd_items VALUES (1, 'a', 'paid', 10.00, 1), (2, NULL, 'paid', 5.00, 2),
                                         (3, 'c', 'bogus', -1.00, 3), (3, 'd', 'paid', 7.00, 4);
            CREATE TABLE dwd_parents (id int);
            INSERT INTO dwd_parents VALUES (1), (2);
            CREATE TABLE dwd_ledger (k text, debit numeric(18,2), credit numeric(18,2));
            INSERT INTO dwd_ledger VALUES ('a', 10, 4), ('a', 0, 6), ('b', 5, 3);
            CREATE TABLE dwd_left (ref text, amt numeric(18,2), d date);
            INSERT INTO dwd_left VALUES ('A', 10, '2026-10-01'), ('B', 20, '2026-10-01'), ('C', 5, '2026-10-01');
            CREATE TABLE dwd_right (ref text, amt numeric(18,2), d date);
            INSERT INTO dwd_right VALUES ('A', 10, '2026-10-02'), ('B', 19, '2026-10-01'), ('C', 5, '2026-10-06'), ('D', 7, '2026-10-01');
            CREATE TABLE dwd_empty (ref text, amt numeric(18,2));
            CREATE TABLE dwd_dated (id int, pid int, d date);
            INSERT INTO dwd_dated VALUES (1, 1, '2026-10-01'), (1, 9, '2026-10-02'), (2, 8, '2026-10-02'), (3, 2, '2026-10-03'),
                                         (3, 7, '2026-10-03');
            CREATE TABLE dwd_events (at timestamptz);
            INSERT INTO dwd_events VALUES ('2026-10-01T12:00:00Z');
            SET search_path = "\(dws)";
            CREATE TABLE dws_h (m int, hour_start timestamptz, v numeric(18,2));
            INSERT INTO dws_h VALUES (1, '2026-10-01T10:00:00Z', 5), (1, '2026-10-01T11:00:00Z', 5), (1, '2026-10-02T10:00:00Z', 3);
            CREATE TABLE dws_d (m int, biz_date date, v numeric(18,2));
            INSERT INTO dws_d VALUES (1, '2026-10-01', 10), (1, '2026-10-02', 4), (1, '2026-10-03', 1);
            SET search_path = "\(ads)";
            CREATE TABLE ads_bal (m int, biz_date date, opening numeric(18,2), closing numeric(18,2));
            INSERT INTO ads_bal VALUES (1, '2026-10-01', 0, 10), (1, '2026-10-02', 10, 12), (1, '2026-10-03', 11, 11),
                                       (2, '2026-10-01', 0, 0), (2, '2026-10-03', 0, 0);
            RESET search_path;
            """)
        guard let layout else { return }
        for row in try run.connection.query("""
            SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'r' AND n.nspname IN (\(dwd), \(dws), \(ads))
            """).rows {
            let table = quoteIdentifier(try row.decode(String.self, at: 0)) + "." + quoteIdentifier(try row.decode(String.self, at: 1))
            if let column = layout[try row.decode(String.self, at: 1)] {
                try run.connection.execute("SELECT create_distributed_table(\(literal: table), \(literal: column))")
            } else {
                try run.connection.execute("SELECT create_reference_table(\(literal: table))")
            }
        }
    }

    /// Checks of every type over the bench's tables, some passing and some failing (the cases
    /// ExpectationsTests asserts one by one).
    static let rowLevelSuite = """
          - {id: nn, type: not_null, table: dwd_items, columns: [name]}
          - {id: nn_pass, type: not_null, table: dwd_items, columns: [id]}
          - {id: av, type: accepted_values, table: dwd_items, column: status, values: [paid]}
          - {id: rg, type: range, table: dwd_items, column: amount, min: 0}
          - {id: rg_pass, type: range, table: dwd_items, column: amount, min: -5, max: 10}
          - {id: ex, type: expression, table: dwd_items, expression: "amount < 8"}
          - {id: ex_where, type: expression, table: dwd_items, expression: "amount < 8", where: "id > 1"}
          - {id: bal, type: balance, table: dwd_items, lhs: amount, rhs: "qty * 2.5", tolerance: 2.5}

        """
    static let setLevelSuite = """
          - {id: uq, type: unique, table: dwd_items, columns: [id]}
          - {id: rel, type: relationships, table: dwd_items, columns: [id], to: {table: dwd_parents, columns: [id]}}
          - {id: rc_min, type: row_count, table: dwd_items, min: 5}
          - {id: rc_ok, type: row_count, table: dwd_items, min: 1, max: 10}
          - {id: rc_eq, type: row_count, table: dwd_items, equals: {table: dwd_parents}}
          - {id: rc_empty, type: row_count, table: dwd_empty, min: 1}
          - {id: grain, type: balance, table: dwd_ledger, lhs: debit, rhs: credit, grain: [k]}
          - {id: sq, type: sql, table: dwd_items, query: "select id, amount from dwd_items where amount < 0;"}
          - {id: fresh_old, type: freshness, table: dwd_events, column: at, max_age: 2 days}
          - {id: fresh_ok, type: freshness, table: dwd_events, column: at, max_age: 5 days}

        """
    static let reconcileSuite = """
          - id: rec
            type: reconcile
            left: {table: dwd_left, keys: [ref], amount: amt, date: d}
            right: {table: dwd_right, keys: [ref], amount: amt, date: d}
            date_window: 3 days
          - id: rec_empty
            type: reconcile
            left: {table: dwd_left, keys: [ref], amount: amt}
            right: {table: dwd_empty, keys: [ref], amount: amt}

        """
    static let periodSuite = """
          - id: cp
            type: cross_period
            fine: {table: dws_h, period: hour_start}
            coarse: {table: dws_d, period: biz_date}
            rollup: day
            keys: [m]
            measures: [v]
          - {id: cont, type: continuity, table: ads_bal, keys: [m], period: biz_date, step: 1 day, opening: opening, closing: closing}

        """

    deinit {
        try? run.close()
    }

    /// Evaluates expectations text (the checks: part only) and returns the results by id.
    /// `reader`: the connection the checks run on (default: the run's own, which owns the tables).
    func evaluate(_ checks: String, timeout: Int = 10_000, parallel: Bool = false, scope: CheckScope? = nil,
                  reader: Connection? = nil) throws -> [String: CheckResult] {
        let file = try ExpectationsParser.parse(text: "version: 1\nchecks:\n" + checks, file: "test.yml")
        var engine = CheckEngine(resolver: TableResolver(schemas: run.schemas, project: nil))
        engine.scope = scope
        engine.timeoutMilliseconds = timeout
        engine.asOf = try #require(TimestampParser.parse("2026-10-05T00:00:00Z"))
        var workers = [CheckWorker(reader ?? run.connection)]
        if parallel {
            let connections = run.connections
            workers.append(CheckWorker { try connections.connect("checks-2") })
        }
        statements = []
        let observed = reader ?? run.connection
        observed.statementObserver = { [weak self] in self?.statements.append($0) }
        defer { observed.statementObserver = nil }
        let results = try engine.evaluate(file, workers: workers, logger: quietLogger)
        return Dictionary(uniqueKeysWithValues: results.map { ($0.id, $0) })
    }
}

@Suite("Expectations: every check type passes, fails and errors as EXPECTATIONS.md says", .serialized)
struct ExpectationsTests {
    let bench: CheckBench

    init() throws {
        bench = try CheckBench()
    }

    /// In a scoped run a `unique` check counts the period's keys over every row (a copy in another
    /// period is still a duplicate), and a `relationships` check looks up the period's rows only.
    @Test func uniqueAndRelationshipsInAPeriodReadThePeriodsKeys() throws {
        let checks = """
              - {id: keys, type: unique, table: dwd_dated, columns: [id], period: d}
              - {id: parents, type: relationships, table: dwd_dated, columns: [pid], to: {table: dwd_parents, columns: [id]}, period: d}

            """
        let whole = try bench.evaluate(checks)
        #expect(whole["keys"]?.failingRows == 4)
        #expect(whole["parents"]?.failingRows == 3)
        let scope = CheckScope(period: try Period(parsing: "2026-10-02T05", grain: .hour), zone: "UTC")
        let scoped = try bench.evaluate(checks, scope: scope)
        // Key 1 has a row on the 2nd and its copy on the 1st; key 3's copies lie outside the period.
        #expect(scoped["keys"]?.failingRows == 2)
        #expect(scoped["keys"]?.sample.compactMap { $0["id"]?.text } == ["1"])
        // Parents 9 and 8 are missing on the 2nd; 7 is missing on the 3rd, outside it.
        #expect(scoped["parents"]?.failingRows == 2)
        #expect(Set(scoped["parents"]?.sample.compactMap { $0["pid"]?.text } ?? []) == ["9", "8"])
        let quiet = try bench.evaluate(checks, scope: CheckScope(period: try Period(parsing: "2026-10-01", grain: .day), zone: "UTC"))
        #expect(quiet["keys"]?.failingRows == 2)
        #expect(quiet["parents"]?.status == .pass)
    }

    /// A reconcile of whole tables is planned as sequential reads merged by key (the plan that
    /// holds at 10,000,000 orders); one limited to a scoped run's keys keeps the planner's choice.
    @Test func wholeTableGroupingsArePlannedAsSequentialMerges() throws {
        let check = """
              - {id: rec, type: reconcile, left: {table: dwd_left, keys: [ref], amount: amt, period: d}, right: {table: dwd_right, keys: [ref], amount: amt}}

            """
        func settingsBefore(_ results: [String: CheckResult]) -> [String] {
            #expect(results["rec"]?.status != .error)
            return bench.statements.filter { $0.contains("enable_hashjoin") }
        }
        let whole = settingsBefore(try bench.evaluate(check))
        #expect(whole.count == 1 && whole[0].contains("set_config('effective_cache_size', current_setting('shared_buffers'), true)"))
        let scope = CheckScope(period: try Period(parsing: "2026-10-01", grain: .day), zone: "UTC")
        #expect(settingsBefore(try bench.evaluate(check, scope: scope)).isEmpty)
    }

    /// A scoped reconcile reads its candidate keys' rows key by key through an index on the keys
    /// while they are few next to the table, and by the planner's join otherwise: either way the
    /// same classes, counts, amounts and sample as from the same rows in tables without indexes.
    @Test func scopedReconcileLooksTheDaysKeysUpThroughTheKeyIndex() throws {
        let dwd = bench.run.schemas.name(.dwd)
        // 60 days of 100 references; a reference's right row a day later, except: every 7th is
        // missing, every 11th is 0.01 more, every 13th lands 5 days later, every 17th has a second
        // left row a day later (its sums span two days), and each day has an orphan right row.
        let rows = """
            SELECT 'R' || n AS ref, CASE WHEN n % 3 = 0 THEN 'EUR' ELSE 'USD' END AS currency,
                   (n % 97 + 1)::numeric(18,2) AS amt, DATE '2026-09-01' + (n / 100) AS d
            FROM generate_series(0, 5999) n
            """
        var script = "SET search_path = \"\(dwd)\";\n"
        for kind in ["keyed", "plain"] {
            script += """
                CREATE TABLE dwd_\(kind)_left AS SELECT ref, currency, amt, d FROM (\(rows)) x
                  UNION ALL SELECT ref, currency, 1, d + 1 FROM (\(rows)) x WHERE substr(ref, 2)::int % 17 = 0;
                CREATE TABLE dwd_\(kind)_right AS
                  SELECT ref, currency, amt + CASE WHEN substr(ref, 2)::int % 11 = 0 THEN 0.01 ELSE 0 END AS amt,
                         d + CASE WHEN substr(ref, 2)::int % 13 = 0 THEN 5 ELSE 1 END AS d
                  FROM (\(rows)) x WHERE substr(ref, 2)::int % 7 <> 0
                  UNION ALL SELECT 'orphan' || g, 'USD', 3, DATE '2026-09-01' + g FROM generate_series(0, 59) g;

                """
        }
        script += """
            CREATE INDEX ON dwd_keyed_left (ref); CREATE INDEX ON dwd_keyed_left (d);
            CREATE INDEX ON dwd_keyed_right USING hash (ref); CREATE INDEX ON dwd_keyed_right (d);
            ANALYZE dwd_keyed_left; ANALYZE dwd_keyed_right; ANALYZE dwd_plain_left; ANALYZE dwd_plain_right;
            """
        try bench.run.connection.executeScript(script)
        func check(_ kind: String) -> String {
            """
              - {id: rec, type: reconcile, left: {table: dwd_\(kind)_left, keys: [ref], amount: amt, date: d, period: d}, \
            right: {table: dwd_\(kind)_right, keys: [ref], amount: amt, date: d}, match_also: [currency], date_window: 3 days}

            """
        }
        /// The plan's scan nodes that ran, as "node relation" and "node index".
        func scans(of statement: String) throws -> Set<String> {
            let plan: String = try bench.run.connection.query(SQL(unsafeSQL: "EXPLAIN (ANALYZE, FORMAT JSON) " + statement)).scalar()
            var found: Set<String> = []
            func walk(_ node: Any) {
                guard let node = node as? [String: Any] else { return }
                if (node["Actual Loops"] as? Int ?? 0) > 0 {
                    for name in [node["Relation Name"], node["Index Name"]].compactMap({ $0 as? String }) {
                        found.insert("\(node["Node Type"] ?? "") \(name)")
                    }
                }
                for child in node["Plans"] as? [Any] ?? [] { walk(child) }
            }
            for root in try #require(JSONSerialization.jsonObject(with: Data(plan.utf8)) as? [[String: Any]]) { walk(root["Plan"] as Any) }
            return found
        }
        for (period, grain, probed) in [("2026-10-05", Grain.day, true), ("2026-10", Grain.month, false)] {
            let scope = CheckScope(period: try Period(parsing: period, grain: grain), zone: "UTC")
            let plain = try #require(try bench.evaluate(check("plain"), scope: scope)["rec"])
            let keyed = try #require(try bench.evaluate(check("keyed"), scope: scope)["rec"])
            let statement = try #require(bench.statements.first { $0.contains("_candidates") && $0.contains("dwd_keyed_left") })
            // Without JIT: its lookups' estimated cost would compile it for longer than it runs.
            #expect(bench.statements.contains("SELECT set_config('jit', 'off', true)"), "\(period)")
            #expect(plain.status == .fail && plain.failingRows > 0, "\(period)")
            #expect(keyed.status == plain.status && keyed.failingRows == plain.failingRows, "\(period)")
            #expect(keyed.observed == plain.observed && keyed.sample == plain.sample, "\(period)")
            let ran = try scans(of: statement)
            // The day's keys (a sixtieth of the table) are looked up through the key indexes; the
            // month's (half of them, past an eighth) are joined by the planner, which reads the
            // tables whole.
            #expect(ran.contains("Index Scan dwd_keyed_left_ref_idx") == probed, "\(period): \(ran)")
            #expect(ran.contains("Index Scan dwd_keyed_right_ref_idx") == probed, "\(period): \(ran)")
            #expect(ran.contains { $0.hasPrefix("Seq Scan dwd_keyed") } == !probed, "\(period): \(ran)")
        }
        // Keyed by day and reference, which no index looks up: the IN, narrowed to the candidates'
        // days, which the index on the day reads.
        let scope = CheckScope(period: try Period(parsing: "2026-10-05", grain: .day), zone: "UTC")
        func daily(_ kind: String) throws -> CheckResult {
            try #require(try bench.evaluate("""
                  - {id: rec, type: reconcile, left: {table: dwd_\(kind)_left, keys: [d, ref], amount: amt, period: d}, \
                right: {table: dwd_\(kind)_right, keys: [d, ref], amount: amt, period: d}}

                """, scope: scope)["rec"])
        }
        let (plain, keyed) = (try daily("plain"), try daily("keyed"))
        #expect(plain.status == .fail && keyed.failingRows == plain.failingRows && keyed.observed == plain.observed)
        #expect(keyed.sample == plain.sample)
        let ran = try scans(of: try #require(bench.statements.first { $0.contains("_candidates") }))
        #expect(!ran.contains { $0.hasPrefix("Seq Scan dwd_keyed") } && !ran.contains { $0.hasSuffix("_ref_idx") }, "\(ran)")
    }

    /// A sample is evidence: the same rows give the same sample whatever order they lie in on disk
    /// (the first failing rows in the order of their text), for a fused row-level scan and a
    /// set-level query alike.
    @Test func samplesDoNotDependOnTheTablesPhysicalOrder() throws {
        let dwd = bench.run.schemas.name(.dwd)
        let checks = """
              - {id: rows, type: accepted_values, table: dwd_sampled, column: status, values: [paid], sample_size: 3}
              - {id: keys, type: unique, table: dwd_sampled, columns: [k], sample_size: 3}

            """
        var samples: [[String]] = []
        for order in ["ASC", "DESC"] {
            try bench.run.connection.executeScript("""
                SET search_path = "\(dwd)";
                DROP TABLE IF EXISTS dwd_sampled;
                CREATE TABLE dwd_sampled AS SELECT i AS id, 'bad' || i AS status, i % 5 AS k FROM generate_series(1, 40) i ORDER BY i \(order);
                RESET search_path;
                """)
            let results = try bench.evaluate(checks)
            samples.append(["rows", "keys"].map { id in
                (results[id]?.sample ?? []).map { row in row.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.text)" }.joined(separator: " ") }
                    .joined(separator: "; ")
            })
        }
        #expect(samples[0] == samples[1], "\(samples)")
        // The text order of the rows: (1,bad1,1), (10,bad10,0), (11,bad11,1).
        #expect(samples[0][0].hasPrefix("id=1 k=1 status=bad1; id=10 k=0 status=bad10; id=11"), "\(samples[0][0])")
    }

    @Test func rowLevelChecksCountFailingRowsAndSampleThem() throws {
        let results = try bench.evaluate(CheckBench.rowLevelSuite)
        #expect(results["nn"]?.status == .fail)
        #expect(results["nn"]?.failingRows == 1)
        #expect(results["nn"]?.sample.first?["id"] == .number(2))
        #expect(results["nn_pass"]?.status == .pass)
        #expect(results["av"]?.failingRows == 1)
        #expect(results["av"]?.sample.first?["status"] == .string("bogus"))
        #expect(results["rg"]?.failingRows == 1)
        #expect(results["rg_pass"]?.status == .pass)
        #expect(results["ex"]?.failingRows == 1)
        #expect(results["ex_where"]?.status == .pass)
        // |10-2.5| = 7.5, |5-5| = 0, |-1-7.5| = 8.5, |7-10| = 3: three beyond 2.5.
        #expect(results["bal"]?.failingRows == 3)
        #expect(results["bal"]?.sample.first?["difference"] != nil)
    }

    @Test func rowLevelChecksOnOneTableCostOneScan() throws {
        _ = try bench.evaluate("""
              - {id: a, type: not_null, table: dwd_items, columns: [id]}
              - {id: b, type: accepted_values, table: dwd_items, column: qty, values: ["1", "2", "3", "4"]}
              - {id: c, type: range, table: dwd_items, column: qty, min: 1}
              - {id: d, type: expression, table: dwd_items, expression: "qty > 0"}
              - {id: e, type: balance, table: dwd_items, lhs: qty, rhs: qty}
            """)
        let scans = bench.statements.filter { $0.contains("FROM \"\(bench.run.schemas.name(.dwd))\".\"dwd_items\"") }
        #expect(scans.count == 1, "\(scans)")
        #expect(scans.first?.components(separatedBy: "count(*) FILTER").count == 6)
    }

    @Test func setLevelChecks() throws {
        let results = try bench.evaluate(CheckBench.setLevelSuite)
        #expect(results["uq"]?.failingRows == 2)
        #expect(results["uq"]?.sample.first?["occurrences"] == .number(2))
        #expect(results["rel"]?.failingRows == 2)
        #expect(results["rc_min"]?.failingRows == 1)
        #expect(results["rc_min"]?.observed["row_count"] == .number(4))
        #expect(results["rc_ok"]?.status == .pass)
        #expect(results["rc_eq"]?.failingRows == 2)
        #expect(results["rc_empty"]?.status == .fail)
        #expect(results["grain"]?.failingRows == 1)
        #expect(results["grain"]?.sample.first?["k"] == .string("b"))
        #expect(results["grain"]?.sample.first?["difference"] == .number(2))
        #expect(results["sq"]?.failingRows == 1)
        #expect(results["fresh_old"]?.status == .fail)
        #expect(results["fresh_ok"]?.status == .pass)
    }

    @Test func reconcileClassifiesEveryKeyWithCountsAndAmounts() throws {
        let results = try bench.evaluate(CheckBench.reconcileSuite)
        let rec = try #require(results["rec"])
        #expect(rec.status == .fail, "\(rec.message ?? "")")
        #expect(rec.failingRows == 3)
        guard case .object(let classes)? = rec.observed["classes"] else { Issue.record("no classes"); return }
        #expect(classes["matched"] == .object(["count": .number(1), "amount": .number(10)]))
        #expect(classes["amount_mismatch"] == .object(["count": .number(1), "amount": .number(20)]))
        #expect(classes["late"] == .object(["count": .number(1), "amount": .number(5)]))
        #expect(classes["missing_left"] == .object(["count": .number(1), "amount": .number(7)]))
        #expect(Set(rec.sample.compactMap { $0["ref"]?.text }) == ["B", "C", "D"])
        #expect(results["rec_empty"]?.status == .error)
        #expect(results["rec_empty"]?.message?.contains("never read as zero") == true)
    }

    @Test func crossPeriodAndContinuity() throws {
        let results = try bench.evaluate(CheckBench.periodSuite)
        #expect(results["cp"]?.failingRows == 2)
        #expect(Set(results["cp"]?.sample.compactMap { $0["period"]?.text } ?? []) == ["2026-10-02", "2026-10-03"])
        #expect(results["cont"]?.failingRows == 2)
    }

    @Test func aBrokenCheckIsErrorAndTheOthersStillRun() throws {
        let results = try bench.evaluate("""
              - {id: bad, type: expression, table: dwd_items, expression: "no_such_column > 1"}
              - {id: good, type: not_null, table: dwd_items, columns: [name]}
              - {id: bad_sql, type: sql, table: dwd_items, query: "select nothing from nowhere"}
            """)
        #expect(results["bad"]?.status == .error)
        #expect(results["bad"]?.message?.contains("42703") == true)
        #expect(results["good"]?.failingRows == 1)
        #expect(results["bad_sql"]?.status == .error)
    }

    @Test func everyTypeIsAnErrorWhenItsSQLCannotRunAndTheOthersStillRun() throws {
        let bad = "no_such_column > 0"
        let results = try bench.evaluate("""
              - {id: not_null, type: not_null, table: dwd_items, columns: [id], where: "\(bad)"}
              - {id: unique, type: unique, table: dwd_items, columns: [id], where: "\(bad)"}
              - {id: accepted_values, type: accepted_values, table: dwd_items, column: status, values: [paid], where: "\(bad)"}
              - {id: range, type: range, table: dwd_items, column: amount, min: 0, where: "\(bad)"}
              - {id: expression, type: expression, table: dwd_items, expression: "\(bad)"}
              - {id: relationships, type: relationships, table: dwd_items, columns: [id], to: {table: dwd_parents, columns: [id], where: "\(bad)"}}
              - {id: row_count, type: row_count, table: dwd_items, min: 1, where: "\(bad)"}
              - {id: balance, type: balance, table: dwd_items, lhs: amount, rhs: "\(bad)"}
              - {id: balance_grain, type: balance, table: dwd_ledger, lhs: debit, rhs: credit, grain: [k], where: "\(bad)"}
              - {id: reconcile, type: reconcile, left: {table: dwd_left, keys: [ref], amount: amt, where: "\(bad)"}, right: {table: dwd_right, keys: [ref], amount: amt}}
              - {id: cross_period, type: cross_period, fine: {table: dws_h, period: hour_start, where: "\(bad)"}, coarse: {table: dws_d, period: biz_date}, rollup: day, keys: [m], measures: [v]}
              - {id: continuity, type: continuity, table: ads_bal, keys: [m], period: biz_date, opening: opening, closing: closing, where: "\(bad)"}
              - {id: freshness, type: freshness, table: dwd_events, column: at, max_age: 2 days, where: "\(bad)"}
              - {id: sql, type: sql, query: "select \(bad) from dwd_items"}
              - {id: still_runs, type: not_null, table: dwd_items, columns: [name]}
            """)
        for type in CheckTypes.all.map({ $0.name }) + ["balance_grain"] {
            #expect(results[type]?.status == .error, "\(type)")
            #expect(results[type]?.message?.contains("42703") == true, "\(type): \(results[type]?.message ?? "")")
        }
        #expect(results["still_runs"]?.failingRows == 1)
        #expect(results["sql"]?.layer == .layer(.dwd))
        #expect(results["sql"]?.table == "dwd")
    }

    @Test func checksCannotWriteOrRunTwoStatements() throws {
        let results = try bench.evaluate("""
              - {id: inject, type: expression, table: dwd_items, expression: "1=1; drop table dwd_items"}
              - {id: write, type: sql, table: dwd_items, query: "delete from dwd_items returning *"}
              - {id: write_cte, type: sql, table: dwd_items, query: "with x as (delete from dwd_items returning *) select * from x"}
              - {id: write_fn, type: sql, table: dwd_items, query: "select * from dwd_items where nextval('no_seq') > 0 or (select count(*) from (select set_config('x.y', 'z', false)) s) > 0 and false"}
            """)
        #expect(results["inject"]?.status == .error)
        #expect(results["write"]?.status == .error)
        #expect(results["write_cte"]?.status == .error)
        #expect(results["write_fn"]?.status == .error)
        let count: Int = try bench.run.connection.query(
            "SELECT count(*) FROM \(schema: bench.run.schemas.name(.dwd), table: "dwd_items")").scalar()
        #expect(count == 4)
    }

    @Test func aCheckPastItsTimeoutIsErrorAndTheRunFinishes() throws {
        let results = try bench.evaluate("""
              - {id: slow, type: sql, table: dwd_items, query: "select pg_sleep(5), 1 as x"}
              - {id: after, type: not_null, table: dwd_items, columns: [id]}
            """, timeout: 200)
        #expect(results["slow"]?.status == .error)
        #expect(results["slow"]?.message?.contains("timed out after 200 ms") == true)
        #expect(results["after"]?.status == .pass)
    }

    @Test func warnSeverityWarnsAndMaxFailingTolerates() throws {
        let results = try bench.evaluate("""
              - {id: w, type: not_null, table: dwd_items, columns: [name], severity: warn}
              - {id: tolerated, type: not_null, table: dwd_items, columns: [name], max_failing: 1}
            """)
        #expect(results["w"]?.status == .warn)
        #expect(results["tolerated"]?.status == .pass)
        #expect(results["tolerated"]?.failingRows == 1)
    }

    @Test func badFilesAreRefusedWithLineAndCheck() throws {
        func failure(_ checks: String) throws -> ExpectationsError {
            try #require(throws: ExpectationsError.self) { _ = try bench.evaluate(checks) }
        }
        let typo = try failure("  - {id: a, type: not_null, table: dwd_items, colums: [id]}\n")
        #expect(typo.line == 3)
        #expect(typo.checkID == "a")
        #expect(typo.message == "unknown key 'colums' for type not_null")
        #expect(try failure("  - {id: a, type: no_such_type, table: dwd_items}\n").message.hasPrefix("unknown type 'no_such_type'"))
        #expect(try failure("  - {id: a, type: not_null, table: dwd_items}\n").message == "missing key 'columns'")
        let duplicate = try failure("  - {id: a, type: not_null, table: dwd_items, columns: [id]}\n  - {id: a, type: not_null, table: dwd_items, columns: [id]}\n")
        #expect(duplicate.line == 4)
        #expect(duplicate.message == "duplicate id (first defined on line 3)")
        #expect(try failure("  - {id: a, type: not_null, table: dwd_nothing, columns: [id]}\n").message == "table 'dwd_nothing' does not exist")
        #expect(try failure("  - {id: a, type: not_null, table: dwd_items, columns: [nope]}\n").message == "table 'dwd_items' has no column 'nope'")
        #expect(try failure("  - {id: a, type: not_null, table: nowhere, columns: [id]}\n").message == "unknown table 'nowhere'")
        #expect(try failure("  - {id: A!, type: not_null, table: dwd_items, columns: [id]}\n").message == "id must match [a-z0-9_.-]+")
        // Numbers past what the parser can hold are named errors, not an arithmetic overflow (a crash, exit 132).
        let huge = try failure("  - {id: a, type: freshness, table: dwd_events, column: at, max_age: \"9223372036854775807 days\"}\n")
        #expect(huge.message.contains("max_age must be a duration of at most 100 years"), "\(huge.message)")
        #expect(try failure("  - {id: a, type: row_count, table: dwd_items, min: 99999999999999999999999}\n").checkID == "a")
        #expect(try failure("  - {id: a, type: not_null, table: dwd_items, columns: [id], sample_size: 99999999999999999999}\n").checkID == "a")
    }

    @Test func twoConnectionsGiveTheSameResultsAsOne() throws {
        let checks = """
              - {id: uq, type: unique, table: dwd_items, columns: [id]}
              - {id: rel, type: relationships, table: dwd_items, columns: [id], to: {table: dwd_parents, columns: [id]}}
              - {id: rc_min, type: row_count, table: dwd_items, min: 5}
              - {id: grain, type: balance, table: dwd_ledger, lhs: debit, rhs: credit, grain: [k]}
              - {id: sq, type: sql, table: dwd_items, query: "select id from dwd_items where amount < 0"}
              - id: rec
                type: reconcile
                left: {table: dwd_left, keys: [ref], amount: amt, date: d}
                right: {table: dwd_right, keys: [ref], amount: amt, date: d}
                date_window: 3 days
              - {id: cont, type: continuity, table: ads_bal, keys: [m], period: biz_date, step: 1 day, opening: opening, closing: closing}
              - {id: nn, type: not_null, table: dwd_items, columns: [name]}
            """
        let one = try bench.evaluate(checks)
        let two = try bench.evaluate(checks, parallel: true)
        #expect(one.keys.sorted() == two.keys.sorted())
        for (id, result) in one {
            #expect(two[id]?.status == result.status, "\(id)")
            #expect(two[id]?.failingRows == result.failingRows, "\(id)")
            #expect(two[id]?.observed == result.observed, "\(id)")
            #expect(two[id]?.sample == result.sample, "\(id)")
        }
    }

    @Test func checksGroupingOneTableGiveTogetherWhatEachGivesAlone() throws {
        let checks = [
            "  - {id: left_keys, type: unique, table: dwd_right, columns: [ref], sample_size: 5}",
            """
              - id: rec
                type: reconcile
                left: {table: dwd_left, keys: [ref], amount: amt, date: d}
                right: {table: dwd_right, keys: [ref], amount: amt, date: d}
                date_window: 3 days
            """,
            """
              - id: rec_where
                type: reconcile
                left: {table: dwd_left, keys: [ref], amount: amt, where: "amt > 6"}
                right: {table: dwd_right, keys: [ref], amount: amt, where: "ref <> 'D'"}
            """,
            "  - {id: ledger_keys, type: unique, table: dwd_ledger, columns: [k]}",
            "  - {id: grain, type: balance, table: dwd_ledger, lhs: debit, rhs: credit, grain: [k]}",
        ]
        let together = try bench.evaluate(checks.joined(separator: "\n"))
        // Each check groups its tables in its own statement: no pass is materialized for others.
        #expect(!bench.statements.contains { $0.contains("AS MATERIALIZED (SELECT") }, "\(bench.statements)")
        for check in checks {
            let alone = try bench.evaluate(check)
            let (id, result) = try #require(alone.first)
            #expect(together[id]?.status == result.status, "\(id)")
            #expect(together[id]?.failingRows == result.failingRows, "\(id)")
            #expect(together[id]?.observed == result.observed, "\(id)")
            func rows(_ sample: [[String: JSONValue]]) -> Set<String> {
                Set(sample.map { $0.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.text)" }.joined(separator: " ") })
            }
            #expect(rows(together[id]?.sample ?? []) == rows(result.sample), "\(id)")
            #expect(together[id]?.sampleColumns == result.sampleColumns, "\(id)")
        }
        #expect(together["rec"]?.failingRows == 3)
        #expect(together["ledger_keys"]?.failingRows == 2)
        #expect(together["grain"]?.failingRows == 1)
    }

    @Test func tagsSelectChecks() throws {
        let file = try ExpectationsParser.parse(text: """
            version: 1
            checks:
              - {id: a, type: not_null, table: dwd_items, columns: [id], tags: [fast]}
              - {id: b, type: not_null, table: dwd_items, columns: [id]}
            """, file: "t.yml")
        var engine = CheckEngine(resolver: TableResolver(schemas: bench.run.schemas, project: nil))
        engine.tags = ["fast"]
        let results = try engine.evaluate(file, connection: bench.run.connection, logger: quietLogger)
        #expect(results.map(\.id) == ["a"])
    }

    /// `cadence: day` judges a check in the runs that close a day (and outside `recon run`); the
    /// day's other hours leave it out. A cadence other than run or day is refused with its line.
    @Test func aDailyCadenceWaitsForTheDaysClose() throws {
        let checks = """
              - {id: hourly, type: not_null, table: dwd_items, columns: [id]}
              - {id: daily, type: sql, query: "select id from dwd_items where id is null or id = 2", cadence: day}

            """
        func judged(_ period: String?) throws -> [String] {
            let scope = try period.map { CheckScope(period: try Period(parsing: $0, grain: $0.count == 13 ? .hour : .day), zone: "UTC") }
            return try bench.evaluate(checks, scope: scope).keys.sorted()
        }
        #expect(try judged("2026-10-02T05") == ["hourly"])
        #expect(try judged("2026-10-02T23") == ["daily", "hourly"])
        #expect(try judged("2026-10-02") == ["daily", "hourly"])
        #expect(try judged(nil) == ["daily", "hourly"])
        #expect(try bench.evaluate(checks)["daily"]?.failingRows == 1)
        let file = try ExpectationsParser.parse(text: "version: 1\nchecks:\n" + checks, file: "t.yml")
        var engine = CheckEngine(resolver: TableResolver(schemas: bench.run.schemas, project: nil))
        engine.scope = CheckScope(period: try Period(parsing: "2026-10-02T05", grain: .hour), zone: "UTC")
        #expect(engine.waiting(file).map(\.id) == ["daily"])
        let wrong = try #require(throws: ExpectationsError.self) {
            _ = try bench.evaluate("  - {id: a, type: not_null, table: dwd_items, columns: [id], cadence: hourly}\n")
        }
        #expect(wrong.line == 3 && wrong.checkID == "a" && wrong.message.hasPrefix("cadence must be run"), "\(wrong)")
    }

    /// The refunds-versus-captures query of a user's `sql` check: with a LIMIT above it (the old
    /// wrapper), PostgreSQL read both sides through their indexes in order and merged them; as the
    /// engine sends it now, its plan is the one the query has alone (two hash aggregates, a hash join).
    @Test func aSQLChecksQueryKeepsThePlanItHasAlone() throws {
        let dwd = bench.run.schemas.name(.dwd)
        try bench.run.connection.executeScript("""
            SET search_path = "\(dwd)";
            CREATE TABLE dwd_pay AS SELECT g AS payment_id, (g % 200000) + 1 AS order_id, 'captured'::text AS status,
                   (g % 97)::numeric(18,2) AS amount FROM generate_series(1, 220000) g;
            CREATE TABLE dwd_ref AS SELECT g AS refund_id, (g * 7 % 200000) + 1 AS order_id, (g % 13)::numeric(18,2) AS amount
                   FROM generate_series(1, 30000) g;
            CREATE INDEX ON dwd_pay (order_id); CREATE INDEX ON dwd_ref (order_id);
            ANALYZE dwd_pay; ANALYZE dwd_ref;
            RESET search_path;
            """)
        let query = """
            select r.order_id, r.refunded, coalesce(p.captured, 0) as captured
            from (select order_id, sum(amount) as refunded from dwd_ref group by order_id) r
            left join (select order_id, sum(amount) as captured from dwd_pay where status = 'captured' group by order_id) p using (order_id)
            where r.refunded > coalesce(p.captured, 0)
            """
        let results = try bench.evaluate("  - {id: refunds_within_captures, type: sql, query: \"\(query.replacingOccurrences(of: "\n", with: " "))\"}\n")
        let check = try #require(results["refunds_within_captures"])
        let connection = bench.run.connection
        try connection.execute("SELECT set_config('search_path', \(dwd), false)")
        let expected: Int = try connection.query("SELECT count(*) FROM (\(unsafeSQL: query)) q").scalar()
        #expect(check.failingRows == expected)
        #expect(check.layer == .layer(.dwd))
        #expect(check.sample.count == 20)

        /// The plan tree's node types and relations, without costs.
        func shape(_ plan: [String: Any]) -> String {
            let children = (plan["Plans"] as? [[String: Any]] ?? []).map(shape).joined(separator: ", ")
            return "\(plan["Node Type"] ?? "?")\(plan["Relation Name"].map { " \($0)" } ?? "")[\(children)]"
        }
        func plan(_ statement: SQL) throws -> [String: Any] {
            let json: String = try connection.query("EXPLAIN (FORMAT JSON, COSTS OFF) \(statement)").scalar()
            let document = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]]
            return try #require(document?.first?["Plan"] as? [String: Any])
        }
        let alone = try plan(SQL(unsafeSQL: query))
        let sent = try plan(CheckEngine.countAndSample(SQL(unsafeSQL: query), count: "count(*)", sampleSize: 20))
        let cte = try #require((sent["Plans"] as? [[String: Any]])?.first { $0["Subplan Name"] as? String == "CTE failing" })
        #expect(shape(cte) == shape(alone))
        #expect(shape(alone).contains("Hash"))
        // The test has teeth: the old wrapper's LIMIT gave the same query another plan on this data.
        let old = try plan("SELECT f.*, count(*) OVER () AS _failing_rows FROM (\(unsafeSQL: query)) f LIMIT 20")
        #expect(!shape(old).contains(shape(alone)))
        try connection.execute("RESET search_path")
    }

    /// EXPECTATIONS.md "Materiality": a 0.01 difference is a warning, a 500.00 one an error; per
    /// currency amounts and the relative share of the checked total decide each currency alone.
    @Test func materialityDecidesWhetherMoneyMatters() throws {
        let dwd = bench.run.schemas.name(.dwd)
        try bench.run.connection.executeScript("""
            SET search_path = "\(dwd)";
            CREATE TABLE dwd_mat (k text, currency text, lhs numeric(18,2), rhs numeric(18,2));
            INSERT INTO dwd_mat VALUES ('a', 'USD', 100.00, 99.99), ('b', 'EUR', 500.00, 0.00), ('c', 'EUR', 9500.00, 9500.00);
            RESET search_path;
            """)
        let results = try bench.evaluate("""
              - {id: cent, type: balance, table: dwd_mat, lhs: lhs, rhs: rhs, where: "k = 'a'", materiality: {amount: 5.00}}
              - {id: big, type: balance, table: dwd_mat, lhs: lhs, rhs: rhs, where: "k = 'b'", materiality: {amount: 5.00}}
              - {id: per_currency, type: balance, table: dwd_mat, lhs: lhs, rhs: rhs, materiality: {amount: {USD: 1.00, EUR: 1000.00}}}
              - {id: usd_only, type: balance, table: dwd_mat, lhs: lhs, rhs: rhs, materiality: {amount: {USD: 1.00}}}
              - {id: share_within, type: balance, table: dwd_mat, lhs: lhs, rhs: rhs, where: "currency = 'EUR'", materiality: {relative: 0.05}}
              - {id: share_above, type: balance, table: dwd_mat, lhs: lhs, rhs: rhs, where: "currency = 'EUR'", materiality: {relative: 0.04}}
              - {id: recon, type: reconcile, left: {table: dwd_left, keys: [ref], amount: amt}, right: {table: dwd_right, keys: [ref], amount: amt}, materiality: {amount: 10}}

            """)
        #expect(results["cent"]?.status == .warn)
        #expect(results["cent"]?.moneyAtStake == ["USD": "0.01"])
        #expect(results["cent"]?.judgement?.contains("below materiality: USD 0.01 within the materiality") == true, "\(results["cent"]?.judgement ?? "")")
        #expect(results["big"]?.status == .fail)
        #expect(results["big"]?.moneyAtStake == ["EUR": "500.00"])
        #expect(results["per_currency"]?.status == .warn)
        // A currency without an amount is never immaterial.
        #expect(results["usd_only"]?.status == .fail)
        // EUR: 500.00 at stake of a checked total of 10,000.00: within 5%, above 4%.
        #expect(results["share_within"]?.status == .warn)
        #expect(results["share_above"]?.status == .fail)
        // Reconcile: B (-1.00) and D (7.00, missing on the left) are 8.00 at stake.
        #expect(results["recon"]?.status == .warn)
        #expect(results["recon"]?.moneyAtStake == ["": "8.00"])

        func failure(_ checks: String) throws -> ExpectationsError {
            try #require(throws: ExpectationsError.self) { _ = try bench.evaluate(checks) }
        }
        #expect(try failure("  - {id: a, type: not_null, table: dwd_items, columns: [id], materiality: {amount: 1}}\n").message
            .hasPrefix("materiality needs a check that measures money"))
        #expect(try failure("  - {id: a, type: sql, query: 'select 1 as x', amount: x, materiality: {relative: 0.1}}\n").message
            .hasPrefix("relative materiality needs the checked total"))
    }

    /// EXPECTATIONS.md "Waivers": a valid waiver covers the failing rows it matches; all covered is
    /// `waived`; an expired or exceeded one waives nothing and says so; an unknown check is an error.
    @Test func waiversCoverFailingRowsWithinTheirDateAndAmount() throws {
        let check = "  - {id: recon, type: reconcile, left: {table: dwd_left, keys: [ref], amount: amt}, right: {table: dwd_right, keys: [ref], amount: amt}}\n"
        func waiver(_ keys: String, expires: String = "2026-12-31", max: String = "") -> String {
            "  - {check: recon, \(keys)reason: gateway delay, approved_by: J. Doe, ticket: FIN-1\(max), expires: \(expires)}\n"
        }
        // D alone: one of two failing rows waived, the check still fails.
        var result = try #require(try bench.evaluate(check + "waivers:\n" + waiver("keys: {ref: D}, ")).first?.value)
        #expect(result.status == .fail)
        #expect(result.failingRows == 2 && result.waivedRows == 1)
        #expect(result.waivers?.first?.status == .applied)
        #expect(result.waivers?.first?.rows == 1)
        #expect(result.waivers?.first?.amount == ["": "7.00"])
        // B and D: everything waived.
        result = try #require(try bench.evaluate(check + "waivers:\n" + waiver("keys: {ref: D}, ") + waiver("keys: {ref: B}, ")).first?.value)
        #expect(result.status == .waived)
        #expect(result.waivedRows == 2)
        // A waiver of every row, but expired before the as_of date (2026-10-05): nothing waived.
        result = try #require(try bench.evaluate(check + "waivers:\n" + waiver("", expires: "2026-10-04")).first?.value)
        #expect(result.status == .fail)
        #expect(result.waivers?.first?.status == .expired)
        #expect(result.waivedRows == nil)
        // D holds 7.00, more than the waiver's max_amount of 5.00: exceeded, nothing waived.
        result = try #require(try bench.evaluate(check + "waivers:\n" + waiver("keys: {ref: D}, ", max: ", max_amount: 5.00")).first?.value)
        #expect(result.status == .fail)
        #expect(result.waivers?.first?.status == .exceeded)

        let unknown = try #require(throws: ExpectationsError.self) {
            _ = try bench.evaluate(check + "waivers:\n  - {check: no_such_check, reason: r, approved_by: a, expires: 2026-12-31}\n")
        }
        #expect(unknown.message == "the waiver names no existing check: 'no_such_check'")
        #expect(unknown.line == 5)
    }

    /// A reconcile that matches on currency reports each class's amount per currency: the
    /// message never adds dollars to euros.
    @Test func reconcileAmountsArePerCurrency() throws {
        let dwd = bench.run.schemas.name(.dwd)
        try bench.run.connection.executeScript("""
            SET search_path = "\(dwd)";
            CREATE TABLE dwd_fx_left (ref text, currency text, amt numeric(18,2));
            INSERT INTO dwd_fx_left VALUES ('a', 'USD', 10.00), ('b', 'EUR', 20.00), ('c', 'EUR', 5.00);
            CREATE TABLE dwd_fx_right (ref text, currency text, amt numeric(18,2));
            INSERT INTO dwd_fx_right VALUES ('a', 'USD', 10.00), ('b', 'EUR', 20.00);
            RESET search_path;
            """)
        let result = try #require(try bench.evaluate("""
              - {id: fx, type: reconcile, left: {table: dwd_fx_left, keys: [ref], amount: amt}, right: {table: dwd_fx_right, keys: [ref], amount: amt}, match_also: [currency]}

            """)["fx"])
        #expect(result.outcome == "1 failing row, expected 0; matched 2 (EUR 20.00, USD 10.00), missing_right 1 (EUR 5.00)", "\(result.outcome)")
        guard case .object(let classes)? = result.observed["classes"], case .object(let matched)? = classes["matched"] else {
            Issue.record("no classes")
            return
        }
        #expect(matched["amounts"] == .object(["EUR": .string("20.00"), "USD": .string("10.00")]))
    }
}
