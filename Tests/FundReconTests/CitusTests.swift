import Foundation
import Postgres
import Testing

@testable import FundRecon

/// A coordinator and a worker of Citus (distributed PostgreSQL) on this machine, on Unix sockets
/// only, as `recon` would be given with `--db`. Citus comes from `make citus` (which `make test`
/// and CI run first): without it these tests fail and say so.
@Suite("Citus: a coordinator and its workers", .serialized)
struct CitusTests {
    static var installed: Bool {
        guard let binaries = try? ServerBinaries.locate() else { return false }
        let lib = ((binaries.directory as NSString).deletingLastPathComponent as NSString).appendingPathComponent("lib/citus.so")
        return FileManager.default.fileExists(atPath: lib)
    }

    /// Starts a node with Citus loaded and the extension created.
    static func node() throws -> EmbeddedCluster {
        let cluster = try EmbeddedCluster.start(options: .init(preloadLibraries: ["citus"]), logger: quietLogger)
        try Connection(cluster.target).execute("CREATE EXTENSION citus")
        return cluster
    }

    @Test func doctorNamesTheCoordinatorItsWorkersAndWhetherTheyAnswer() throws {
        try #require(CitusTests.installed, "Citus is not installed in PostgreSQL 15: run `make citus`")
        let coordinator = try CitusTests.node()
        defer { coordinator.stop() }
        let worker = try CitusTests.node()
        defer { worker.stop() }
        let connection = try Connection(coordinator.target)
        try connection.execute("SELECT citus_set_coordinator_host(\(coordinator.directory), 5432)")
        try connection.execute("SELECT citus_add_node(\(worker.directory), 5432)")

        let citus = { () throws -> DoctorFinding in
            try #require(Doctor.examine(server: coordinator.target, logger: quietLogger).first { $0.subject == "Citus" })
        }
        let up = try citus()
        #expect(up.ok, "\(up)")
        #expect(up.detail.contains("coordinator, Citus 13."))
        #expect(up.detail.contains("1 worker: \(worker.directory):5432 reachable"), "\(up.detail)")

        worker.stop()
        let down = try citus()
        #expect(!down.ok)
        #expect(down.detail.contains("\(worker.directory):5432 unreachable"), "\(down.detail)")
        #expect(down.fix?.contains("citus_disable_node") == true)
    }

    /// `--embedded-citus N`: a coordinator and N workers on sockets, registered, spreading a
    /// distributed table's shards over the workers; every node gone when it is closed.
    @Test func anEmbeddedTopologyRegistersItsWorkersAndLeavesNothingBehind() throws {
        try #require(CitusTests.installed, "Citus is not installed in PostgreSQL 15: run `make citus`")
        let database = try ProvidedDatabase(.embeddedCitus(workers: 2), logger: quietLogger)
        let topology = try #require(database.topology)
        let directories = topology.nodes.map(\.directory)
        #expect(directories.count == 3)
        #expect(database.displayName == "embedded Citus (2 workers)")
        let citus = try #require(Doctor.examine(server: database.target, logger: quietLogger).first { $0.subject == "Citus" })
        #expect(citus.ok && citus.detail.contains("2 workers"), "\(citus.detail)")
        let connection = try Connection(database.target)
        try connection.execute("CREATE TABLE spread (id bigint, amount numeric(18,2))")
        try connection.execute("SELECT create_distributed_table('spread', 'id')")
        try connection.execute("INSERT INTO spread SELECT i, i * 0.01 FROM generate_series(1, 1000) i")
        #expect(try connection.query("SELECT sum(amount)::text FROM spread").scalar(String.self) == "5005.00")
        let placed: Int = try connection.query("SELECT count(DISTINCT nodename) FROM citus_shards WHERE table_name = 'spread'::regclass").scalar()
        #expect(placed == 2, "the shards are on both workers")
        // A check's statement already runs on both workers at once: the checks go one at a time.
        #expect(try Orchestrator.checksAtOnce(on: connection) == 1)
        database.close()
        #expect(directories.allSatisfy { !FileManager.default.fileExists(atPath: $0) }, "a node's directory is left")
    }

    @Test func doctorSaysAPlainServerIsNotCitus() throws {
        let findings = Doctor.examine(server: try SharedCluster.target(), logger: quietLogger)
        let citus = try #require(findings.first { $0.subject == "Citus" })
        #expect(citus.ok)
        #expect(citus.detail == "not in this database: a single PostgreSQL server")
        #expect(try Orchestrator.checksAtOnce(on: Connection(SharedCluster.target())) == 2, "two checks at once on one server")
    }
}

/// The warehouse distributed on a coordinator and two workers: the models' layout as declared,
/// their work spread over both workers, and every golden outcome equal to one PostgreSQL.
@Suite("Citus: the warehouse distributed", .serialized)
struct DistributedWarehouseTests {
    @Test func theModelsAreLaidOutAsDeclaredAndSpreadOverTheWorkers() throws {
        try #require(CitusTests.installed, "Citus is not installed in PostgreSQL 15: run `make citus`")
        let database = try ProvidedDatabase(.embeddedCitus(workers: 2), logger: quietLogger)
        defer { database.close() }
        var request = RunRequest(expectationsPath: repositoryRoot + "/expectations/fund_recon.yml", pipelineDirectory: repositoryRoot + "/pipeline",
                                 reportsDirectory: NSTemporaryDirectory() + "recon-citus-\(UUID().uuidString)")
        request.formats = []
        let runID = RunID.generate()
        request.runID = runID
        request.handsOverSchemas = true
        request.recordStatements = true
        // Citus' guard on intermediate results, lowered below what this small month gathers on the
        // coordinator (two reconciles' sides): the build and the checks lift it for their own
        // sessions, or a 10M month's build (4 GB for ads_gateway_recon) and checks fail on it.
        let coordinator = try Connection(database.target)
        try coordinator.execute("ALTER SYSTEM SET citus.max_intermediate_result_size = '16kB'")
        // Every shard task on its own connection at once, as a 10M-order month's long checks
        // open them: the checks' reader role must be allowed the executor's pool on each worker
        // (with a limit of 2 they failed with "too many connections for role").
        try coordinator.execute("ALTER SYSTEM SET citus.force_max_query_parallelization = on")
        try coordinator.execute("SELECT pg_reload_conf()")
        let spec = GeneratorSpec(seed: 43, start: CalendarDate("2026-10-01")!, days: 4, ordersPerDay: 90, anomalies: try AnomalySpec(parsing: "all=1"))
        let run = try Orchestrator.run(request, kind: .ephemeral(database: .server(database.target), source: .generate(spec), keepSchemas: false),
                                       interrupts: nil, logger: quietLogger) { _ in }
        let result = run.audit
        #expect(result.summary.error == 0, "\(result.checks.filter { $0.status == .error }.map { "\($0.id): \($0.message ?? "")" })")
        let connection = try Connection(database.target)
        let schemas = RunSchemas(runID: runID)
        defer { try? RunSession.drop(schemas: schemas.all, on: connection) }
        // name -> (method, distribution column, colocation group)
        var layout: [String: (String, String, Int)] = [:]
        for row in try connection.query("""
            SELECT relname, citus_table_type, coalesce(distribution_column, ''), colocation_id
            FROM citus_tables t JOIN pg_class c ON c.oid = t.table_name JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ANY(string_to_array(\(schemas.all.joined(separator: ",")), ','))
            """).rows {
            layout[try row.decode(String.self, at: 0)] = (try row.decode(at: 1), try row.decode(at: 2), try row.decode(at: 3))
        }
        let orders = try #require(layout["dwd_orders"])
        #expect(orders.0 == "distributed" && orders.1 == "order_id")
        for name in ["dwd_payments", "dwd_refunds", "dwd_unique_commissions", "dwd_commissions", "dwd_voucher_redemptions", "dws_order_money"] {
            #expect(layout[name]?.0 == "distributed" && layout[name]?.1 == "order_id" && layout[name]?.2 == orders.2,
                    "\(name) is co-located with dwd_orders on order_id")
        }
        #expect(layout["dws_capture_settled_on"]?.0 == "distributed" && layout["dws_capture_settled_on"]?.1 == "order_id"
                && layout["dws_capture_settled_on"]?.2 == orders.2, "a capture's settlement day lies beside its order")
        // the gateway side: the lines, our side and the recon co-located on the reference they are reconciled by
        let lines = try #require(layout["dwd_gateway_settlements"])
        #expect(lines.0 == "distributed" && lines.1 == "recon_key")
        for name in ["dws_gateway_expected", "ads_gateway_recon"] {
            #expect(layout[name]?.0 == "distributed" && layout[name]?.1 == "recon_key" && layout[name]?.2 == lines.2,
                    "\(name) is co-located with dwd_gateway_settlements on recon_key")
        }
        for name in ["dwd_merchants", "dws_merchant_daily", "dws_merchant_monthly", "ads_monthly_statement", "ads_merchant_balance_daily"] {
            #expect(layout[name]?.0 == "distributed" && layout[name]?.1 == "merchant_id", "\(name) on merchant_id")
        }
        // The loaded fact extracts are distributed on their own keys as they load; reference data stays on the coordinator.
        for (name, key) in [("ods_orders", "order_id"), ("ods_payments", "payment_id"), ("ods_refunds", "refund_id"),
                            ("ods_commissions", "commission_id"), ("ods_voucher_redemptions", "redemption_id"),
                            ("ods_merchant_payouts", "payout_id")] {
            #expect(layout[name]?.0 == "distributed" && layout[name]?.1 == key, "\(name) on \(key): \(String(describing: layout[name]))")
        }
        #expect(layout["ods_merchants"] == nil)
        // Where each model's INSERT runs, from EXPLAIN: on the workers (pushed down, or
        // repartitioned between them) or through the coordinator. The DWD models of the loaded
        // extracts run on the workers; the ones still pulled are exactly those docs/scale-out.md
        // lists, so a model that starts pulling fails here.
        let statements = try #require(run.outputs.builds[.runDbtModel]?.report.statements)
        try connection.execute("SELECT set_config('citus.enable_repartition_joins', 'on', false)")  // as the build does
        var pulled: Set<String> = []
        var explained: Set<String> = []
        for statement in statements {
            guard let model = Self.insertTarget(of: statement, schemas: schemas.all) else { continue }
            let plan = try connection.query(SQL(unsafeSQL: "EXPLAIN " + statement)).rows.map { try $0.decode(String.self, at: 0) }
                .joined(separator: "\n")
            #expect(plan.contains("Custom Scan (Citus"), "\(model) is not planned by Citus:\n\(plan)")
            explained.insert(model)
            if plan.contains("pull to coordinator") { pulled.insert(model) }
        }
        #expect(explained.isSuperset(of: ["dwd_orders", "dwd_payments", "dwd_refunds", "dwd_voucher_redemptions", "dwd_unique_commissions",
                                        "dwd_commissions", "dws_merchant_events"]), "\(explained)")
        #expect(pulled == Self.throughTheCoordinator, "pulled now: \(pulled.sorted())")
        // recon diff compares a distributed model's two sides on the workers: the rows are joined on
        // the key and the distribution column, and only the rows that differ come back.
        let refunds = TableDiff.Relation(schema: schemas.name(.dwd), table: "dwd_refunds")
        var columns = TableDiff.Columns(common: ["refund_id", "order_id", "amount"], key: ["refund_id"], partition: nil, retyped: [])
        columns.align = "order_id"
        let comparison = try connection.query(SQL(unsafeSQL: "EXPLAIN " + TableDiff.alignedPairs(refunds, refunds, columns).text))
            .rows.map { try $0.decode(String.self, at: 0) }.joined(separator: "\n")
        #expect(!comparison.contains("Distributed Subplan") && comparison.contains("Task Count: 32"), "\(comparison)")
        #expect(layout["ads_recon_breaks"]?.0 == "reference", "a model without distributed_by is a reference table")
        // The orders' rows are on both workers, none on the coordinator.
        let perNode = try connection.query("""
            SELECT nodename, sum(shard_size)::bigint FROM citus_shards
            WHERE table_name = \(schemas.name(.dwd) + ".dwd_orders")::regclass GROUP BY 1
            """).rows.map { try $0.decode(String.self, at: 0) }
        #expect(Set(perNode) == Set(database.topology!.workers.map(\.directory)), "\(perNode)")
    }

    /// The models whose INSERT still pulls its rows through the coordinator (docs/scale-out.md,
    /// "Where the build's work runs"): shrink it as they move to the workers.
    static let throughTheCoordinator: Set<String> = [
        // the gateway's files, loaded on the coordinator: the lines (distributed on recon_key), the files and payouts
        // (reference tables); and reference tables of day and batch sums grouped on the workers and combined
        "dwd_gateway_files", "dwd_gateway_payouts", "dwd_gateway_settlements", "dws_gateway_daily", "dws_gateway_monthly",
        "dws_gateway_batches", "ads_gateway_recon_daily",
        // from sources loaded on the coordinator (dwd_merchants is distributed on merchant_id; the others are reference
        // tables), or reference tables gathered from distributed ones (dws_capture_timing: the captures' per-day sums,
        // grouped on the workers and combined)
        "dwd_merchants", "dwd_reseller_files", "dwd_reseller_sales", "dwd_removed_duplicates", "dws_reseller_matches", "dws_capture_timing", "ads_recon_breaks",
    ]

    /// The model an `INSERT INTO "schema"."model"` of one of `schemas` fills.
    static func insertTarget(of statement: String, schemas: [String]) -> String? {
        for schema in schemas {
            let prefix = "INSERT INTO \"\(schema)\".\""
            guard statement.hasPrefix(prefix) else { continue }
            return statement.dropFirst(prefix.count).prefix { $0 != "\"" }.description
        }
        return nil
    }

    /// Every check type passes and fails on a coordinator and two workers as on one PostgreSQL:
    /// ExpectationsTests' cases over the same small tables, here distributed on columns that are
    /// not the checks' keys (a duplicate's rows, a reconcile's sides, a continuity's days and a
    /// grain's groups on different shards), the small ones reference tables.
    @Test func everyCheckTypePassesAndFailsAsOnOnePostgreSQL() throws {
        try #require(CitusTests.installed, "Citus is not installed in PostgreSQL 15: run `make citus`")
        let database = try ProvidedDatabase(.embeddedCitus(workers: 2), logger: quietLogger)
        defer { database.close() }
        let layout = ["dwd_items": "qty", "dwd_parents": "id", "dwd_ledger": "credit", "dwd_left": "d", "dwd_right": "ref",
                      "dwd_empty": "ref", "dwd_dated": "pid", "dws_h": "hour_start", "dws_d": "biz_date", "ads_bal": "biz_date"]
        let citus = try CheckBench(on: database.target, layout: layout)
        let placed: Int = try citus.run.connection.query("SELECT count(*) FROM citus_tables WHERE citus_table_type = 'distributed'").scalar()
        #expect(placed == layout.count)
        let suite = CheckBench.rowLevelSuite + CheckBench.setLevelSuite + CheckBench.reconcileSuite + CheckBench.periodSuite
        let distributed = try citus.evaluate(suite)
        let single = try CheckBench().evaluate(suite)
        #expect(single.count == 22 && Set(single.values.map(\.status)) == [.pass, .fail, .error])
        for (id, one) in single {
            let other = try #require(distributed[id], "\(id) has no result on Citus")
            #expect(other.status == one.status && other.failingRows == one.failingRows, "\(id): \(other.status) \(other.failingRows) on Citus, \(one.status) \(one.failingRows) on one node: \(other.message ?? "")")
            #expect(other.observed == one.observed, "\(id)")
            #expect(other.sample == one.sample, "\(id)")
        }
    }

    /// Checks over two tables distributed on one column run within the shards, with one
    /// PostgreSQL's outcomes. A `relationships` check whose keys do not contain that column
    /// (refunds and payments on order_id, related by payment_id) looks a row up within its shard
    /// first and only the rest by the keys alone: a child whose parent lies under another value of
    /// the column passes, one without a parent fails, a NULL key passes, and a `where` naming the
    /// shared column stays unambiguous. A `reconcile` keyed by that column (orders and payments by
    /// order_id) classifies its pairs on the workers: its pairs are not materialized, and the
    /// shard tasks plan with the engine's settings for whole-table groupings.
    @Test func checksOverCoLocatedTablesRunWithinTheShards() throws {
        try #require(CitusTests.installed, "Citus is not installed in PostgreSQL 15: run `make citus`")
        let database = try ProvidedDatabase(.embeddedCitus(workers: 2), logger: quietLogger)
        defer { database.close() }
        let checks = """
              - {id: rel_shard, type: relationships, table: dwd_kids, columns: [pid], to: {table: dwd_pars, columns: [id]}, where: "grp > 0"}
              - id: rec_shard
                type: reconcile
                left: {table: dwd_owed, keys: [grp], amount: amt, date: d}
                right: {table: dwd_paid, keys: [grp], amount: amt, date: d}
                date_window: 1 day
              - {id: uq_shard, type: unique, table: dwd_owed, columns: [grp]}
              - id: rec_settings
                type: reconcile
                left: {table: dwd_owed, keys: [grp], amount: "amt * (current_setting('enable_hashjoin') = 'off')::int"}
                right: {table: dwd_owed, keys: [grp], amount: amt}

            """
        func bench(_ target: ConnectionTarget?, distributed: Bool) throws -> CheckBench {
            let bench = try target.map { try CheckBench(on: $0, layout: [:]) } ?? CheckBench()
            let dwd = bench.run.schemas.name(.dwd)
            try bench.run.connection.executeScript("""
                SET search_path = "\(dwd)";
                CREATE TABLE dwd_kids (id int, pid int, grp int);
                INSERT INTO dwd_kids VALUES (1, 1, 1), (2, 2, 1), (3, 9, 3), (4, NULL, 1), (5, 7, 0);
                CREATE TABLE dwd_pars (id int, grp int);
                INSERT INTO dwd_pars VALUES (1, 1), (2, 2);
                CREATE TABLE dwd_owed (grp int, amt numeric(18,2), d date);
                INSERT INTO dwd_owed VALUES (1, 10, '2026-10-01'), (2, 20, '2026-10-01'), (3, 5, '2026-10-01'), (4, 8, '2026-10-02'),
                                            (6, 1, '2026-10-03');
                CREATE TABLE dwd_paid (grp int, amt numeric(18,2), d date);
                INSERT INTO dwd_paid VALUES (1, 10, '2026-10-01'), (2, 19, '2026-10-01'), (3, 5, '2026-10-05'), (5, 7, '2026-10-01'),
                                            (6, 0.5, '2026-10-03'), (6, 0.5, '2026-10-03');
                RESET search_path;
                """)
            if distributed {
                for table in ["dwd_kids", "dwd_pars", "dwd_owed", "dwd_paid"] {
                    try bench.run.connection.execute("SELECT create_distributed_table(\(literal: "\"\(dwd)\".\(table)"), 'grp')")
                }
            }
            return bench
        }
        let citus = try bench(database.target, distributed: true)
        // as the checks run: a role that may only read the tables (Citus' citus_tables view lists
        // only a role's own tables, so the layout must be read where a reader sees it)
        let dwd = citus.run.schemas.name(.dwd)
        try citus.run.connection.executeScript("""
            CREATE ROLE colocated_reader LOGIN PASSWORD 'colocated-reader';
            GRANT USAGE ON SCHEMA "\(dwd)" TO colocated_reader;
            GRANT SELECT ON ALL TABLES IN SCHEMA "\(dwd)" TO colocated_reader;
            """)
        let reader = try Connection(try database.target.replacing(["user": "colocated_reader", "password": "colocated-reader"]))
        let onShards = try citus.evaluate(checks, reader: reader)
        let single = try bench(nil, distributed: false)
        let one = try single.evaluate(checks)
        func statement(_ bench: CheckBench, reading table: String) -> String { bench.statements.first { $0.contains(table) } ?? "" }
        #expect(statement(citus, reading: "dwd_kids").contains("candidates"), "\(statement(citus, reading: "dwd_kids"))")
        #expect(!statement(single, reading: "dwd_kids").contains("candidates"))
        #expect(statement(citus, reading: "dwd_paid").contains("NOT MATERIALIZED"), "\(statement(citus, reading: "dwd_paid"))")
        #expect(!statement(single, reading: "dwd_paid").contains("NOT MATERIALIZED"))
        #expect(one["rel_shard"]?.status == .fail && one["rel_shard"]?.failingRows == 1)
        #expect(one["rec_shard"]?.status == .fail && one["rec_shard"]?.failingRows == 4)
        // The planner settings of a whole-table grouping reach the shard tasks on the workers: with
        // hash joins still on there, every left amount would be 0 and the check would fail.
        #expect(one["rec_settings"]?.status == .pass && onShards["rec_settings"]?.status == .pass,
                "\(onShards["rec_settings"]?.observed ?? [:])")
        for (id, result) in one {
            let other = try #require(onShards[id], "\(id) has no result on Citus")
            #expect(other.status == result.status && other.failingRows == result.failingRows && other.sample == result.sample
                    && other.observed == result.observed, "\(id): \(other.status) \(other.failingRows) \(other.message ?? "")")
        }
    }

    /// `recon coverage` on a coordinator and two workers: each anomaly class, injected alone, is
    /// caught, and by the same checks as on one PostgreSQL.
    @Test func coverageOnCitusCatchesEveryClassByTheChecksOfOnePostgreSQL() throws {
        try #require(CitusTests.installed, "Citus is not installed in PostgreSQL 15: run `make citus`")
        let database = try ProvidedDatabase(.embeddedCitus(workers: 2), logger: quietLogger)
        defer { database.close() }
        let base = GeneratorSpec(seed: 7, start: CalendarDate("2026-10-01")!, days: 12, ordersPerDay: 30, businessTimeZone: "Europe/Berlin")
        func coverage(_ target: ConnectionTarget) throws -> [String: [String]] {
            let (rows, _) = try Coverage.run(classes: AnomalyClass.allCases, base: base, pipeline: repositoryRoot + "/pipeline",
                                             expectations: repositoryRoot + "/expectations/fund_recon.yml", database: .server(target),
                                             logger: quietLogger) { _ in }
            return Dictionary(uniqueKeysWithValues: rows.map { ($0.anomalyClass, $0.caughtBy.sorted()) })
        }
        let citus = try coverage(database.target)
        #expect(citus.count == AnomalyClass.allCases.count && citus.values.allSatisfy { !$0.isEmpty }, "\(citus)")
        #expect(citus == (try coverage(try SharedCluster.target())))
    }

    @Test func goldenOutcomesOnCitusEqualOnePostgreSQL() throws {
        try #require(CitusTests.installed, "Citus is not installed in PostgreSQL 15: run `make citus`")
        for name in ["clean_month", "anomalies_month"] {
            let spec = try GoldenSpec.load(name: name, root: repositoryRoot + "/golden")
            let outcome = try GoldenRunner.run(spec, pipeline: repositoryRoot + "/pipeline", expectations: repositoryRoot + "/expectations/fund_recon.yml",
                                               database: .embeddedCitus(workers: 2), update: false, logger: quietLogger)
            #expect(outcome.isEqual, "\(name): \(outcome.tables.filter(\.isChanged).map(\.model)) \(outcome.checks.map(\.id))")
        }
    }
}
