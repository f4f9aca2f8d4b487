import Foundation
import Postgres
import Testing

@testable import FundRecon

/// `recon run` / `recon backfill` on a persistent warehouse, as separate processes on one server:
/// increments equal a whole build, late files restate their day, kills leave nothing half-done,
/// and runs of one prefix never overlap.
@Suite("Persistent warehouse: incremental runs, restatements, crash safety, one run per prefix")
struct PersistentRunTests {
    static let root = AuditCommandTests.root

    /// A generated landing folder of `days` days from 2026-10-01 (Europe/Berlin business days).
    static func landing(days: Int, seed: UInt64 = 71, ordersPerDay: Int = 70) throws -> String {
        let directory = NSTemporaryDirectory() + "recon-landing-\(UUID().uuidString)"
        let result = try ReconProcess.run(["generate", "--out", directory, "--seed", String(seed), "--start", "2026-10-01",
                                           "--days", String(days), "--orders-per-day", String(ordersPerDay),
                                           "--business-timezone", "Europe/Berlin",
                                           "--quiet"])
        guard result.status == 0 else { throw ReconProcess.Failure("generate failed: \(result.output)") }
        return directory
    }

    /// Four generated days whose Stripe file of 2 October is held back, to land late with `deliver()`.
    struct LateStripeFile {
        static let path = "/gateway/stripe/payout_reconciliation_2026-10-02.csv"
        let data: String
        let aside = NSTemporaryDirectory() + "recon-late-\(UUID().uuidString).csv"

        init(seed: UInt64 = 73) throws {
            data = try PersistentRunTests.landing(days: 4, seed: seed)
            try FileManager.default.moveItem(atPath: data + Self.path, toPath: aside)
        }

        func deliver() throws { try FileManager.default.moveItem(atPath: aside, toPath: data + Self.path) }

        func remove() {
            try? FileManager.default.removeItem(atPath: data)
            try? FileManager.default.removeItem(atPath: aside)
        }
    }

    static func prefix() -> String { "t" + UUID().uuidString.prefix(8).lowercased().replacingOccurrences(of: "-", with: "") }

    /// A run's arguments, on the server under test unless `db` names another (a Citus coordinator).
    static func arguments(_ command: String, prefix: String, grain: String, data: String, reports: String,
                          db: String? = nil) throws -> [String] {
        [command, "--db", try db ?? ServerUnderTest.target().conninfo, "--schema-prefix", prefix, "--grain", grain, "--data", data,
         "--pipeline", root + "/pipeline", "--expectations", root + "/expectations/fund_recon.yml", "--reports", reports,
         "--var", "business_timezone=Europe/Berlin"]
    }

    /// One `recon run`.
    static func run(_ prefix: String, _ grain: String, _ period: String, data: String,
                    environment: [String: String] = [:], extra: [String] = []) throws -> (status: Int32, output: String) {
        let reports = NSTemporaryDirectory() + "recon-run-reports-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: reports) }
        return try ReconProcess.run(try arguments("run", prefix: prefix, grain: grain, data: data, reports: reports)
            + ["--period", period] + extra, environment: environment)
    }

    static func start(_ prefix: String, _ grain: String, _ period: String, data: String, reports: String,
                      environment: [String: String] = [:], extra: [String] = []) throws -> ReconProcess {
        try ReconProcess.start(try arguments("run", prefix: prefix, grain: grain, data: data, reports: reports)
            + ["--period", period] + extra, environment: environment)
    }

    /// Waits until a run started with `RECON_INJECT_PAUSE` has paused in `task` (its work written, not committed).
    static func waitForPause(_ process: ReconProcess, in task: String) throws {
        let deadline = Date().addingTimeInterval(120)
        while !process.output.contains("paused in \(task)") {
            guard Date() < deadline else { throw ReconProcess.Failure("never paused in \(task): \(process.output)") }
            usleep(50_000)
        }
    }

    /// Every table of the given layers as (row count, digest of its sorted rows), load times left out.
    static func snapshot(_ prefix: String, layers: [String] = ["dwd", "dws", "ads"], on target: ConnectionTarget? = nil) throws -> [String: String] {
        let connection = try Connection(target ?? ServerUnderTest.target())
        var tables: [String: String] = [:]
        for layer in layers {
            let schema = prefix + "_" + layer
            let names = try connection.query("""
                SELECT table_name FROM information_schema.tables WHERE table_schema = \(schema) ORDER BY 1
                """).rows.map { try $0.decode(String.self, at: 0) }
            for name in names {
                let columns = try connection.query("""
                    SELECT column_name FROM information_schema.columns
                    WHERE table_schema = \(schema) AND table_name = \(name) AND column_name NOT LIKE '\\_loaded%' ORDER BY ordinal_position
                    """).rows.map { quoteIdentifier(try $0.decode(String.self, at: 0)) }.joined(separator: ", ")
                let relation = quoteIdentifier(schema) + "." + quoteIdentifier(name)
                let statement = "SELECT count(*)::text || ' ' || coalesce(md5(string_agg(r::text, '|' ORDER BY r::text)), '') FROM (SELECT "
                    + columns + " FROM " + relation + ") r"
                tables[layer + "." + name] = try connection.query(SQL(unsafeSQL: statement)).scalar(String.self)
            }
        }
        return tables
    }

    static func drop(_ prefix: String) {
        guard let connection = try? Connection(ServerUnderTest.target()) else { return }
        for layer in Layer.allCases {
            _ = try? connection.execute("DROP SCHEMA IF EXISTS \(identifier: prefix + "_" + layer.rawValue) CASCADE")
        }
    }

    static func scalar<T: PostgresDecodable>(_ sql: String, _ type: T.Type = T.self) throws -> T {
        try Connection(ServerUnderTest.target()).query(SQL(unsafeSQL: sql)).scalar(T.self)
    }

    @Test func threeHourlyRunsEqualOneDailyBuildAndReplayingChangesNothing() throws {
        let data = try Self.landing(days: 2)
        defer { try? FileManager.default.removeItem(atPath: data) }
        let (hourly, daily) = (Self.prefix(), Self.prefix())
        defer { Self.drop(hourly); Self.drop(daily) }
        // What a one-day reconcile judged in each run: the paid orders of 10-01, whose window closes
        // when 10-02 ends, in the day's last hour and in the day's run; none in the hours before.
        var judged: [String: Int] = [:]
        for (prefix, grain, period) in [(hourly, "hour", "2026-10-02T21"), (hourly, "hour", "2026-10-02T22"),
                                        (hourly, "hour", "2026-10-02T23"), (daily, "day", "2026-10-02")] {
            let reports = NSTemporaryDirectory() + "recon-run-reports-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: reports) }
            let result = try ReconProcess.run(try Self.arguments("run", prefix: prefix, grain: grain, data: data, reports: reports)
                + ["--period", period])
            #expect(result.status == 0, "\(period): \(result.output)")
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: reports + "/results.json"))) as? [String: Any]
            let check = (json?["checks"] as? [[String: Any]])?.first { $0["id"] as? String == "order_captures_equal_amount_due" }
            #expect(check?["status"] as? String == "pass", "\(period)")
            judged[period] = (check?["observed"] as? [String: Any])?["left_keys"] as? Int
        }
        let paidOn1October = try Self.scalar("""
            SELECT count(*) FROM \(daily)_dwd.dwd_orders WHERE status = 'paid' AND biz_date = '2026-10-01'
            """, Int.self)
        #expect(paidOn1October > 0)
        #expect(judged == ["2026-10-02T21": 0, "2026-10-02T22": 0, "2026-10-02T23": paidOn1October, "2026-10-02": paidOn1October])

        let (a, b) = (try Self.snapshot(hourly, layers: ["ads"]), try Self.snapshot(daily, layers: ["ads"]))
        #expect(a.count == 7)
        #expect(a == b)
        // The increments loaded every row exactly once: the same orders, payments and files as the daily load.
        for table in ["oltp.orders", "oltp.payments", "oltp.commissions", "ods.ods_stripe_balance_transactions", "ods.ods_reseller_sales"] {
            let parts = table.split(separator: ".")
            let count = { (prefix: String) in try Self.scalar("SELECT count(*) FROM \(prefix)_\(parts[0]).\(parts[1])", Int.self) }
            #expect(try count(hourly) == count(daily), "\(table)")
            #expect(try count(hourly) > 0, "\(table)")
        }
        let watermark = try Self.scalar("""
            SELECT to_char(min(loaded_until) AT TIME ZONE 'Europe/Berlin', 'YYYY-MM-DD HH24:MI') FROM recon_meta.watermarks WHERE schema_prefix = '\(hourly)'
            """, String.self)
        #expect(watermark == "2026-10-03 00:00")

        // Replaying the last hour loads nothing and writes no partition: the same tables.
        let before = try Self.snapshot(hourly)
        let replay = try Self.run(hourly, "hour", "2026-10-02T23", data: data)
        #expect(replay.status == 0, "\(replay.output)")
        #expect(replay.output.contains("run_dbt_model: up to date"), "\(replay.output)")
        #expect(try Self.snapshot(hourly) == before)
        // An older period replayed after newer ones judges by everything loaded: nothing changes either.
        let older = try Self.run(hourly, "hour", "2026-10-02T05", data: data)
        #expect(older.status == 0, "\(older.output)")
        #expect(older.output.contains("run_dbt_model: up to date"), "\(older.output)")
        #expect(try Self.snapshot(hourly) == before)
        // Forced, the build runs again and still changes nothing.
        let forced = try Self.run(hourly, "hour", "2026-10-02T23", data: data, extra: ["--rebuild"])
        #expect(forced.status == 0, "\(forced.output)")
        #expect(!forced.output.contains("up to date"))
        #expect(try Self.snapshot(hourly) == before)
        let written = try Self.scalar("SELECT count(*) FROM recon_meta.partitions WHERE schema_prefix = '\(hourly)' AND run_id = (SELECT run_id FROM recon_meta.runs WHERE schema_prefix = '\(hourly)' ORDER BY started_at DESC LIMIT 1)", Int.self)
        #expect(written == 0)
        let runs = try Self.scalar("SELECT count(*) FROM recon_meta.runs WHERE schema_prefix = '\(hourly)' AND status = 'succeeded'", Int.self)
        #expect(runs == 6)

        // What an hourly Airflow task runs: one import, nothing new to load, its record in results.json.
        let reports = NSTemporaryDirectory() + "recon-import-only-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: reports) }
        let importOnly = try Self.start(hourly, "hour", "2026-10-02T23", data: data, reports: reports, extra: ["--tasks", TaskID.importMainData.rawValue])
        #expect(try importOnly.wait() == 0, "\(importOnly.output)")
        let results = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: reports + "/results.json"))) as? [String: Any]
        let tasks = try #require(results?["tasks"] as? [[String: Any]])
        #expect(tasks.map { $0["name"] as? String } == [TaskID.importMainData.rawValue])
        #expect(tasks.first?["rows"] as? Int == 0)
    }

    /// A file hashed before is trusted by its stamp (size, inode, change and modification times):
    /// not read again while unchanged, hashed and reloaded once it is rewritten in place, even with
    /// its size and modification time kept.
    @Test func anUnchangedFileIsNotReadAgainAndOneRewrittenInPlaceIs() throws {
        let data = try Self.landing(days: 4)
        defer { try? FileManager.default.removeItem(atPath: data) }
        let prefix = Self.prefix()
        defer { Self.drop(prefix) }
        let stripe = "gateway/stripe/payout_reconciliation_2026-10-02.csv"
        let first = try Self.run(prefix, "hour", "2026-10-03T10", data: data)
        #expect(first.status == 0, "\(first.output)")
        // Files recorded without a stamp (by a version that kept none) are hashed once more, then trusted.
        _ = try Self.scalar("WITH u AS (UPDATE recon_meta.loaded_files SET stamp = NULL WHERE schema_prefix = '\(prefix)' RETURNING 1) SELECT count(*) FROM u", Int.self)
        let unstamped = try Self.run(prefix, "hour", "2026-10-03T11", data: data, extra: ["-v"])
        #expect(unstamped.status == 0, "\(unstamped.output)")
        #expect(!unstamped.output.contains("\(stripe): unchanged since it was hashed"))
        let second = try Self.run(prefix, "hour", "2026-10-03T12", data: data, extra: ["-v"])
        #expect(second.status == 0, "\(second.output)")
        // A reseller CSV is hashed while it is parsed: once loaded, its stamp spares the read too.
        let resellerCSV = try #require(try FileManager.default.subpathsOfDirectory(atPath: data + "/resellers")
            .filter { $0.hasPrefix("2026-10-01/") && $0.hasSuffix(".csv") }.sorted().first.map { "resellers/" + $0 })
        for file in [stripe, "oltp/orders.csv", "oltp/payments.csv", resellerCSV] {
            #expect(second.output.contains("\(file): unchanged since it was hashed"), "\(file)")
        }
        // The day's open Adyen batch was read to find its latest day, and that day is kept with its
        // stamp: while the stamp holds, the day kept is what decides (here made a past day, so the
        // next run takes the batch as due and loads it, which only the kept day can make it do).
        let open = try Self.scalar("""
            SELECT min(file) FROM recon_meta.batch_days WHERE schema_prefix = '\(prefix)' AND latest_day >= DATE '2026-10-03'
            """, String.self)
        let loadedBefore = try Self.scalar("SELECT count(*) FROM recon_meta.loaded_files WHERE schema_prefix = '\(prefix)' AND file = '\(open)'", Int.self)
        #expect(loadedBefore == 0)
        _ = try Self.scalar("""
            WITH u AS (UPDATE recon_meta.batch_days SET latest_day = DATE '2026-10-01' WHERE schema_prefix = '\(prefix)' AND file = '\(open)'
            RETURNING 1) SELECT count(*) FROM u
            """, Int.self)

        // One character of a transaction id changed in place, the size and modification time kept.
        let path = data + "/" + stripe
        var info = stat()
        #expect(stat(path, &info) == 0)
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let id = try #require(bytes.firstIndex(of: UInt8(ascii: "\n"))) + 5   // the first row's "txn_" id, its first hex digit
        let idEnd = try #require(bytes[id...].firstIndex(of: UInt8(ascii: ",")))
        let new = bytes[id] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        let oldID = String(decoding: bytes[(id - 4)..<idEnd], as: UTF8.self)
        bytes[id] = new
        let newID = String(decoding: bytes[(id - 4)..<idEnd], as: UTF8.self)
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        try handle.write(contentsOf: Data(bytes))
        try handle.close()
        var times = [info.st_atim, info.st_mtim]
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
        var after = stat()
        #expect(stat(path, &after) == 0)
        #expect(after.st_size == info.st_size && after.st_mtim.tv_sec == info.st_mtim.tv_sec && after.st_mtim.tv_nsec == info.st_mtim.tv_nsec)

        let third = try Self.run(prefix, "hour", "2026-10-03T13", data: data, extra: ["-v"])
        #expect(third.status == 0, "\(third.output)")
        #expect(try Self.scalar("SELECT count(*) FROM recon_meta.loaded_files WHERE schema_prefix = '\(prefix)' AND file = '\(open)'", Int.self) == 1)
        #expect(third.output.contains("\(stripe) changed since it was loaded"), "\(third.output)")
        #expect(!third.output.contains("\(stripe): unchanged since it was hashed"))
        let rows = { (id: String) in
            try Self.scalar("SELECT count(*) FROM \(prefix)_ods.ods_stripe_balance_transactions WHERE balance_transaction_id = '\(id)'", Int.self)
        }
        #expect(try rows(newID) == 1)
        #expect(try rows(oldID) == 0)
    }

    /// A first build moves the tables it built into the warehouse (no second copy on disk). A build
    /// that rewrote a table past autovacuum's insert threshold vacuums and analyzes it once it has
    /// committed, so the hours after a first build do not run beside autovacuum; a table under the
    /// threshold, and a table an hour merged into, are left to autovacuum.
    @Test func aFirstBuildMovesItsTablesInAndVacuumsWhatItWroteAndAnHourWhatItMergedIsLeft() throws {
        let data = try Self.landing(days: 3, seed: 79, ordersPerDay: 700)
        defer { try? FileManager.default.removeItem(atPath: data) }
        let prefix = Self.prefix()
        defer { Self.drop(prefix) }
        let connection = try Connection(ServerUnderTest.target())
        let threshold = try connection.query("SELECT current_setting('autovacuum_vacuum_insert_threshold')::int").scalar(Int.self)
        #expect(threshold == 1000)
        // Manual vacuums of each of the prefix's DWD, DWS and ADS tables (autovacuum's are counted apart).
        func vacuums() throws -> [String: Int] {
            var counts: [String: Int] = [:]
            for row in try connection.query("""
                SELECT schemaname || '.' || relname, vacuum_count FROM pg_stat_user_tables
                WHERE schemaname IN (\(prefix + "_dwd"), \(prefix + "_dws"), \(prefix + "_ads"))
                """).rows {
                counts[try row.decode(String.self, at: 0)] = try row.decode(Int.self, at: 1)
            }
            return counts
        }
        let daily = try Self.run(prefix, "day", "2026-10-02", data: data, extra: ["-v"])
        #expect(daily.status == 0, "\(daily.output)")
        #expect(daily.output.contains("run_dbt_model: vacuuming "), "\(daily.output)")
        // A table built whole into an empty warehouse is moved in, not copied (one copy on disk).
        #expect(daily.output.contains("publish: \(prefix)_dwd.dwd_orders moved in from the build"), "\(daily.output)")
        #expect(!daily.output.contains("created from the build"), "\(daily.output)")
        let sizes = Dictionary(uniqueKeysWithValues: try connection.query("""
            SELECT schemaname || '.' || relname, n_live_tup FROM pg_stat_user_tables
            WHERE schemaname IN (\(prefix + "_dwd"), \(prefix + "_dws"), \(prefix + "_ads"))
            """).rows.map { (try $0.decode(String.self, at: 0), try $0.decode(Int.self, at: 1)) })
        let first = try vacuums()
        // Built whole, each table was written once: vacuumed exactly when its rows pass the threshold
        // (1,000 plus a fifth of the table: more than 1,250 rows).
        #expect(sizes.values.contains { $0 > 1_250 } && sizes.values.contains { $0 < 1_000 }, "\(sizes)")
        for (table, rows) in sizes where rows > 1_250 || rows < 1_000 {
            #expect(first[table] == (rows > 1_250 ? 1 : 0), "\(table): \(rows) rows, \(first[table] ?? -1) vacuums")
        }
        #expect(first["\(prefix)_dwd.dwd_orders"] == 1)
        // An hour merges a few rows into the large tables: nothing there for a vacuum.
        let hour = try Self.run(prefix, "hour", "2026-10-03T10", data: data)
        #expect(hour.status == 0, "\(hour.output)")
        let after = try vacuums()
        #expect(after["\(prefix)_dwd.dwd_orders"] == 1)
        #expect(after["\(prefix)_dwd.dwd_payments"] == first["\(prefix)_dwd.dwd_payments"])
    }

    /// A merge that brings more rows than one bucket of a table's statistics holds (a day's rows into
    /// a warehouse of one day) analyzes the table in its run, so the models after it are planned on
    /// the rows it has; an hour's few rows do not.
    @Test func aMergeOfManyRowsIsAnalyzedInItsRunAndAnHoursFewAreNot() throws {
        let data = try Self.landing(days: 3, seed: 83, ordersPerDay: 700)
        defer { try? FileManager.default.removeItem(atPath: data) }
        let prefix = Self.prefix()
        defer { Self.drop(prefix) }
        let connection = try Connection(ServerUnderTest.target())
        // Manual analyzes (VACUUM (ANALYZE) among them); autovacuum's are counted apart.
        func analyzes(_ table: String) throws -> Int {
            try connection.query("""
                SELECT analyze_count FROM pg_stat_user_tables WHERE schemaname = \(prefix + "_dwd") AND relname = \(table)
                """).scalar()
        }
        let first = try Self.run(prefix, "day", "2026-10-01", data: data)
        #expect(first.status == 0, "\(first.output)")
        let (built, rows) = (try analyzes("dwd_orders"), try Self.scalar("SELECT count(*) FROM \(prefix)_dwd.dwd_orders", Int.self))
        let second = try Self.run(prefix, "day", "2026-10-02", data: data, extra: ["-v"])
        #expect(second.status == 0, "\(second.output)")
        let merged = try Self.scalar("SELECT count(*) FROM \(prefix)_dwd.dwd_orders", Int.self) - rows
        #expect(merged > 50 + rows / 100, "\(merged) rows merged into \(rows)")
        #expect(second.output.contains("merge: \"\(prefix)_dwd\".\"dwd_orders\" analyzed"), "\(second.output)")
        #expect(try analyzes("dwd_orders") == built + 1)
        let hour = try Self.run(prefix, "hour", "2026-10-03T04", data: data, extra: ["-v"])
        #expect(hour.status == 0, "\(hour.output)")
        #expect(!hour.output.contains("\"dwd_orders\" analyzed"), "\(hour.output)")
        #expect(try analyzes("dwd_orders") == built + 1)
    }

    /// A model's index change reaches its published table: an index added to the config is created
    /// there (it was built on the staging table only, and the warehouse kept the first indexes), one
    /// the config no longer declares is dropped (the planner kept using a replaced index), and the
    /// partition index, which the tool adds itself, stays. Both on a day built whole (the model file
    /// changed) and on the increments after it. An index whose type changed (a B-tree made a hash
    /// index) is replaced the same way. A retired source index is dropped as well.
    @Test func aModelsIndexChangeReachesThePublishedTable() throws {
        let data = try Self.landing(days: 3)
        let pipeline = NSTemporaryDirectory() + "recon-pipeline-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: data); try? FileManager.default.removeItem(atPath: pipeline) }
        try FileManager.default.copyItem(atPath: Self.root + "/pipeline", toPath: pipeline)
        let prefix = Self.prefix()
        defer { Self.drop(prefix) }
        func run(_ period: String) throws -> String {
            let reports = NSTemporaryDirectory() + "recon-run-reports-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: reports) }
            var arguments = try Self.arguments("run", prefix: prefix, grain: "day", data: data, reports: reports)
            arguments[try #require(arguments.firstIndex(of: "--pipeline")) + 1] = pipeline
            let result = try ReconProcess.run(arguments + ["--period", period, "-v"])
            #expect(result.status == 0, "\(result.output)")
            return result.output
        }
        let indexes = {
            try Connection(ServerUnderTest.target()).query("""
                SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = to_regclass(\(prefix + "_dwd.dwd_refunds")) ORDER BY 1
                """).rows.map { try $0.decode(String.self, at: 0) }
        }
        let added = "(amount > (100)::numeric)", removed = "btree (_copies)", partition = "dwd_refunds_biz_date_part "
        let (btreeRef, hashRef) = ("btree (order_id)", "hash (order_id)")
        _ = try run("2026-10-01")
        #expect(try indexes().contains { $0.contains(removed) })
        #expect(try indexes().contains { $0.contains(btreeRef) })
        // A source lookup index an earlier version made, which nothing reads now, goes too.
        let retired = { try Self.scalar("SELECT to_regclass('\(prefix)_ods.ods_commissions_order_id_idx') IS NOT NULL", Bool.self) }
        try Connection(ServerUnderTest.target()).execute("CREATE INDEX ods_commissions_order_id_idx ON \(schema: prefix + "_ods", table: "ods_commissions") (order_id)")
        #expect(try retired())
        #expect(try indexes().contains { $0.contains(partition) })
        let model = pipeline + "/models/dwd/dwd_refunds.sql"
        let text = try String(contentsOfFile: model, encoding: .utf8)
        #expect(text.contains("indexes=[{'columns': ['_copies']}, "))
        #expect(text.contains("{'columns': ['order_id']}"))
        try text.replacingOccurrences(of: "indexes=[{'columns': ['_copies']}, ", with: "indexes=[{'columns': ['(amount > 100)']}, ")
            .replacingOccurrences(of: "{'columns': ['order_id']}", with: "{'columns': ['order_id'], 'type': 'hash'}")
            .write(toFile: model, atomically: true, encoding: .utf8)
        for (number, period) in ["2026-10-02", "2026-10-03"].enumerated() {   // built whole, then merged
            let output = try run(period)
            let present = try indexes()
            #expect(present.filter { $0.contains(added) }.count == 1, "\(present)")
            #expect(!present.contains { $0.contains(removed) }, "\(present)")
            #expect(present.filter { $0.contains(hashRef) }.count == 1 && !present.contains { $0.contains(btreeRef) }, "\(present)")
            #expect(present.filter { $0.contains(partition) }.count == 1, "\(present)")
            #expect(present.count == 6, "\(present)")   // the five declared and the partition index
            #expect(output.contains("drops index dwd_refunds__copies_idx") == (number == 0), "\(output)")
            #expect(try !retired())
        }
    }

    @Test func aLateStripeFileRestatesItsDayAndUpdatesTheMonth() throws {
        let landing = try LateStripeFile()
        defer { landing.remove() }
        let data = landing.data
        let (prefix, straight) = (Self.prefix(), Self.prefix())
        defer { Self.drop(prefix); Self.drop(straight) }

        // The day's payouts came without their transactions: a finding at once.
        let missing = try Self.run(prefix, "day", "2026-10-02", data: data)
        #expect(missing.status == 1, "\(missing.output)")
        #expect(missing.output.contains("gateway_payouts_equal_batch_net"))
        // The day after, the gap is a finding too: Stripe sends a file every day.
        let gap = try Self.run(prefix, "day", "2026-10-03", data: data)
        #expect(gap.status == 1, "\(gap.output)")
        #expect(gap.output.contains("ods_stripe_files_every_day"))
        let monthBefore = try Self.scalar("SELECT sum(settled_gross)::text FROM \(prefix)_dws.dws_gateway_monthly WHERE gateway = 'stripe'", String.self)

        try landing.deliver()
        let arrival = try Self.run(prefix, "day", "2026-10-04", data: data)
        #expect(arrival.status == 0, "\(arrival.output)")
        #expect(arrival.output.contains("restated \(prefix)_dws.dws_gateway_daily 2026-10-02"), "\(arrival.output)")
        // The restatement says what money moved, per currency: the day's settled totals now include the file's.
        let amounts = try Self.scalar("""
            SELECT amounts FROM recon_meta.restatements WHERE schema_prefix = '\(prefix)' AND partition_key = '2026-10-02'
              AND table_name = '\(prefix)_dws.dws_gateway_daily'
            """, String.self)
        let totals = try Connection(ServerUnderTest.target()).query(SQL(unsafeSQL: """
            SELECT currency, sum(settled_gross)::text FROM \(prefix)_dws.dws_gateway_daily WHERE biz_date = '2026-10-02' GROUP BY 1
            """)) .rows.map { (try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1)) }
        #expect(!totals.isEmpty)
        for (currency, total) in totals {
            #expect(amounts.contains("settled_gross \(currency) ") && amounts.contains(" -> \(total)"), "\(currency) \(total): \(amounts)")
        }
        let restated = try Self.scalar("""
            SELECT count(*) FROM recon_meta.restatements WHERE schema_prefix = '\(prefix)' AND partition_key = '2026-10-02'
              AND table_name = '\(prefix)_dws.dws_gateway_daily'
            """, Int.self)
        #expect(restated == 1)
        let monthAfter = try Self.scalar("SELECT sum(settled_gross)::text FROM \(prefix)_dws.dws_gateway_monthly WHERE gateway = 'stripe'", String.self)
        #expect(Decimal(string: monthAfter)! > Decimal(string: monthBefore)!)
        // The file landed in its own day: the warehouse equals one built with every file on time.
        #expect(try Self.run(straight, "day", "2026-10-04", data: data).status == 0)
        #expect(try Self.snapshot(prefix, layers: ["dws", "ads"]) == Self.snapshot(straight, layers: ["dws", "ads"]))
    }

    /// A month signed by a preparer and a reviewer, changed afterwards by a late file: the run
    /// fails with the money that moved and withdraws both sign-offs; reopening is explicit; the
    /// run history's hash chain holds, and a record changed behind its back is named.
    @Test func aSignedMonthChangedByALateFileFailsAndWithdrawsItsSignOffs() throws {
        let landing = try LateStripeFile(seed: 75)
        defer { landing.remove() }
        let data = landing.data
        let prefix = Self.prefix()
        defer { Self.drop(prefix) }
        let db = try ServerUnderTest.target().conninfo
        _ = try Self.run(prefix, "day", "2026-10-03", data: data)
        func sign(_ by: String, _ role: String) throws -> (status: Int32, output: String) {
            try ReconProcess.run(["close", "--db", db, "--schema-prefix", prefix, "--month", "2026-10", "--by", by, "--role", role,
                                  "--pipeline", Self.root + "/pipeline"])
        }
        #expect(try sign("Ann", "reviewer").status == 2, "a reviewer signs after the preparer")
        let prepared = try sign("Ann", "preparer")
        #expect(prepared.status == 0, "\(prepared.output)")
        #expect(prepared.output.contains("2026-10 signed off by Ann as preparer"))
        let same = try sign("Ann", "reviewer")
        #expect(same.status == 2)
        #expect(same.output.contains("the reviewer must be someone other than the preparer"), "\(same.output)")
        #expect(try sign("Bob", "reviewer").status == 0)
        #expect(try Self.scalar("SELECT count(*) FROM recon_meta.signoffs WHERE schema_prefix = '\(prefix)' AND status = 'active'", Int.self) == 2)

        // The pack regenerated from the published month shows both sign-offs; nothing is built or recorded.
        let runs = try Self.scalar("SELECT count(*) FROM recon_meta.runs WHERE schema_prefix = '\(prefix)'", Int.self)
        let pack = NSTemporaryDirectory() + "recon-pack-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: pack) }
        let report = try ReconProcess.run(["report", "--db", db, "--schema-prefix", prefix, "--month", "2026-10", "--format", "html,json",
                                           "--pipeline", Self.root + "/pipeline", "--expectations", Self.root + "/expectations/fund_recon.yml",
                                           "--reports", pack, "--var", "business_timezone=Europe/Berlin"])
        // October's 2nd still lacks its Stripe file: the month's checks say so, and the exit code is audit's.
        #expect(report.status == 1 && report.output.contains("FAIL  breaks_missing_source"), "\(report.output)")
        let html = try String(contentsOfFile: pack + "/monthly-2026-10.html", encoding: .utf8)
        #expect(html.contains("<th>Prepared by</th><td>Ann</td>") && html.contains("<th>Reviewed by</th><td>Bob</td>"))
        #expect(html.contains("warehouse \(prefix), month 2026-10, its published tables (nothing built)"))
        let results = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: pack + "/results.json"))) as? [String: Any]
        let tasks = (results?["tasks"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(tasks == ["run_checks", "write_reports"], "\(tasks)")
        #expect(try Self.scalar("SELECT count(*) FROM recon_meta.runs WHERE schema_prefix = '\(prefix)'", Int.self) == runs)
        let missing = try ReconProcess.run(["report", "--db", db, "--schema-prefix", prefix + "x", "--month", "2026-10", "--reports", pack])
        #expect(missing.status == 3 && missing.output.contains("there is no warehouse '\(prefix)x'"), "\(missing.output)")

        // The late file changes October's 2nd: the run fails, naming the month and the money.
        try landing.deliver()
        let changed = try Self.run(prefix, "day", "2026-10-04", data: data)
        #expect(changed.status == 1, "\(changed.output)")
        #expect(changed.output.contains("signed month 2026-10 changed: its sign-offs are withdrawn"), "\(changed.output)")
        #expect(changed.output.contains("FAIL  signed_months_unchanged"), "\(changed.output)")
        let reasons = try Connection(ServerUnderTest.target()).query(SQL(unsafeSQL: """
            SELECT status, withdrawn_reason FROM recon_meta.signoffs WHERE schema_prefix = '\(prefix)'
            """)).rows.map { (try $0.decode(String.self, at: 0), try $0.decode(String?.self, at: 1) ?? "") }
        #expect(reasons.count == 2 && reasons.allSatisfy { $0.0 == "withdrawn" && $0.1.contains("money moved: ") }, "\(reasons)")
        // The next run of an unchanged warehouse passes: nothing signed is left to change.
        #expect(try Self.run(prefix, "day", "2026-10-04", data: data).status == 0)

        // Reopening is explicit and says what it withdrew.
        #expect(try sign("Ann", "preparer").status == 0)
        let reopened = try ReconProcess.run(["reopen", "--db", db, "--schema-prefix", prefix, "--month", "2026-10", "--by", "Cy",
                                             "--reason", "late Stripe file"])
        #expect(reopened.output.contains("2026-10 reopened: 1 sign-off(s) withdrawn"), "\(reopened.output)")

        // The history's chain holds; a record changed behind its back is named.
        let verified = try ReconProcess.run(["history", "verify", "--db", db])
        #expect(verified.status == 0, "\(verified.output)")
        let runID = try Self.scalar("""
            SELECT run_id FROM recon_meta.runs WHERE schema_prefix = '\(prefix)' AND chain_position IS NOT NULL ORDER BY chain_position LIMIT 1
            """, String.self)
        let connection = try Connection(ServerUnderTest.target())
        try connection.execute(SQL(unsafeSQL: "UPDATE recon_meta.check_results SET status = 'pass', failing_rows = 0 WHERE run_id = '\(runID)' AND status = 'fail'"))
        let tampered = try ReconProcess.run(["history", "verify", "--db", db])
        #expect(tampered.status == 1)
        #expect(tampered.output.contains("FAILED at run \(runID): the record or its check results changed after it was written"), "\(tampered.output)")
    }

    /// The break register: an October break still open in November is in November's pack, aged
    /// at November's end; it can be annotated; when the warehouse no longer shows it, it is
    /// resolved on the run's day and listed as resolved in the month.
    @Test func anOctoberBreakStillOpenIsInNovembersPackAgedAndResolvesWhenItsFileArrives() throws {
        let directory = NSTemporaryDirectory() + "recon-register-\(UUID().uuidString)"
        let generated = try ReconProcess.run(["generate", "--out", directory, "--seed", "77", "--start", "2026-10-20", "--days", "14",
                                              "--orders-per-day", "40", "--business-timezone", "Europe/Berlin", "--quiet"])
        #expect(generated.status == 0, "\(generated.output)")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let late = "/gateway/stripe/payout_reconciliation_2026-10-22.csv"
        let aside = NSTemporaryDirectory() + "recon-late-\(UUID().uuidString).csv"
        try FileManager.default.moveItem(atPath: directory + late, toPath: aside)
        let prefix = Self.prefix()
        defer { Self.drop(prefix) }
        let reports = directory + "/reports"
        func month() throws -> String {
            _ = try ReconProcess.run(try Self.arguments("run", prefix: prefix, grain: "month", data: directory, reports: reports)
                + ["--period", "2026-11", "--format", "html"])
            return try String(contentsOfFile: reports + "/monthly-2026-11.html", encoding: .utf8)
        }
        _ = try Self.run(prefix, "day", "2026-11-02", data: directory)
        let pack = try month()
        #expect(pack.contains("Break register at the end of 2026-11"), "no register section")
        // Stripe's file of October 22 never came: open at November's end, 39 days old.
        let row = try #require(pack.components(separatedBy: "<tr>").first { $0.contains("gateway_file stripe:2026-10-22") })
        #expect(row.contains("missing_gateway_file") && row.contains("<td class=\"n\">39</td>") && row.contains("open"), "\(row)")

        let db = try ServerUnderTest.target().conninfo
        let annotated = try ReconProcess.run(["breaks", "--db", db, "--schema-prefix", prefix, "--type", "missing_gateway_file",
                                              "--key", "stripe:2026-10-22", "--owner", "Ann", "--comment", "asked Stripe"])
        #expect(annotated.status == 0, "\(annotated.output)")
        let listed = try ReconProcess.run(["breaks", "--db", db, "--schema-prefix", prefix, "--status", "open"])
        #expect(listed.output.split(separator: "\n").contains { $0.contains("stripe:2026-10-22") && $0.hasSuffix("Ann") }, "\(listed.output)")
        #expect(try ReconProcess.run(["breaks", "--db", db, "--schema-prefix", prefix, "--type", "missing_gateway_file",
                                      "--key", "stripe:1999-01-01", "--owner", "Ann"]).status == 2)

        // The file arrives: the break is resolved on the run's day and listed as resolved in November.
        try FileManager.default.moveItem(atPath: aside, toPath: directory + late)
        _ = try Self.run(prefix, "day", "2026-11-02", data: directory)
        #expect(try Self.scalar("""
            SELECT status || ' ' || resolved_on::text || ' ' || owner FROM recon_meta.break_register
            WHERE schema_prefix = '\(prefix)' AND entity_key = 'stripe:2026-10-22'
            """, String.self) == "resolved 2026-11-02 Ann")
        let after = try month()
        let resolved = try #require(after.components(separatedBy: "Resolved in the month").last)
        #expect(resolved.contains("stripe:2026-10-22") && resolved.contains("2026-11-02"))
    }

    @Test func killedRunsLeaveTheWarehouseWholeAndTheNextRunFinishes() throws {
        let data = try Self.landing(days: 2, seed: 79)
        defer { try? FileManager.default.removeItem(atPath: data) }
        let (killed, clean) = (Self.prefix(), Self.prefix())
        defer { Self.drop(killed); Self.drop(clean) }
        let reports = NSTemporaryDirectory() + "recon-kill-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: reports) }

        #expect(try Self.run(killed, "day", "2026-10-01", data: data).status == 0)
        let afterDayOne = try Self.snapshot(killed, layers: ["oltp", "ods", "dwd", "dws", "ads"])
        // Killed mid-import (rows written, not committed), then mid-build (imports committed, nothing published).
        for task in [TaskID.importMainData.rawValue, TaskID.runDbtModel.rawValue] {
            let process = try Self.start(killed, "day", "2026-10-02", data: data, reports: reports,
                                         environment: ["RECON_INJECT_PAUSE": "\(task):600"])
            try Self.waitForPause(process, in: task)
            if task == TaskID.runDbtModel.rawValue {
                // The committed imports emptied the run's staging copies: the build reads the warehouse's.
                let staging = try Self.scalar("""
                    SELECT 'rc_' || run_id || '_ods' FROM recon_meta.runs WHERE schema_prefix = '\(killed)' AND status = 'running'
                    """, String.self)
                for table in ["ods_orders", "ods_commissions", "ods_stripe_balance_transactions", "ods_reseller_sales"] {
                    #expect(try Self.scalar("SELECT count(*) FROM \(staging).\(table)", Int.self) == 0, "\(table)")
                    #expect(try Self.scalar("SELECT count(*) FROM \(killed)_ods.\(table)", Int.self) > 0, "\(table)")
                }
            }
            process.send(SIGKILL)
            #expect(try process.wait() == 128 + SIGKILL)
            if task == TaskID.importMainData.rawValue {
                // The extracts' rows were never committed; the flat-file import beside it may have been.
                #expect(try Self.snapshot(killed, layers: ["oltp", "dwd", "dws", "ads"]) == afterDayOne.filter { !$0.key.hasPrefix("ods.") })
            } else {
                let published = try Self.snapshot(killed, layers: ["dwd", "dws", "ads"])
                #expect(published.filter { afterDayOne[$0.key] != $0.value }.isEmpty, "a killed build published something")
            }
        }
        let resumed = try Self.run(killed, "day", "2026-10-02", data: data)
        #expect(resumed.status == 0, "\(resumed.output)")
        #expect(resumed.output.contains("ended without finishing"))
        #expect(try Self.scalar("SELECT count(*) FROM recon_meta.runs WHERE schema_prefix = '\(killed)' AND status = 'crashed'", Int.self) == 2)
        // The killed runs' staging schemas went with them.
        #expect(try Self.scalar("""
            SELECT count(*) FROM pg_namespace n JOIN recon_meta.runs r ON n.nspname LIKE 'rc\\_' || r.run_id || '\\_%'
            WHERE r.schema_prefix = '\(killed)' AND r.status = 'crashed'
            """, Int.self) == 0)

        #expect(try Self.run(clean, "day", "2026-10-01", data: data).status == 0)
        #expect(try Self.run(clean, "day", "2026-10-02", data: data).status == 0)
        #expect(try Self.snapshot(killed, layers: ["oltp", "ods", "dwd", "dws", "ads"]).filter { !$0.key.hasPrefix("ods.ods_file_loads") && !$0.key.hasPrefix("ods.ods_load_summary") }
            == Self.snapshot(clean, layers: ["oltp", "ods", "dwd", "dws", "ads"]).filter { !$0.key.hasPrefix("ods.ods_file_loads") && !$0.key.hasPrefix("ods.ods_load_summary") })
    }

    @Test func badRunArgumentsExitTwoWithTheReason() throws {
        let db = try ServerUnderTest.target().conninfo
        let cases: [([String], String)] = [
            (["run", "--schema-prefix", "Bad-Name", "--period", "2026-10-01", "--db", db], "--schema-prefix"),
            (["run", "--schema-prefix", "ok", "--period", "2026-10-01"], "needs a database that outlives the run"),
            (["run", "--schema-prefix", "ok", "--grain", "hour", "--period", "2026-10-01", "--db", db], "is not an hour period"),
            (["run", "--schema-prefix", "ok", "--period", "2026-10-01", "--db", db, "--tasks", "import_everything"], "unknown task"),
            (["run", "--schema-prefix", "ok", "--period", "2026-10-01", "--db", db, "--tasks", "import_main_data",
              "--pipeline", Self.root + "/pipeline", "--expectations", Self.root + "/expectations/fund_recon.yml"], "give --data DIR"),
            (["backfill", "--schema-prefix", "ok", "--from", "2026-10-05", "--to", "2026-10-01", "--db", db], "is after --to"),
        ]
        for (arguments, message) in cases {
            let result = try ReconProcess.run(arguments)
            #expect(result.status == 2, "\(arguments): \(result.output)")
            #expect(result.output.contains(message), "\(arguments): \(result.output)")
        }
    }

    @Test func anInterruptedRunSaysSoAndLeavesNoStaging() throws {
        let data = try Self.landing(days: 1, seed: 97)
        defer { try? FileManager.default.removeItem(atPath: data) }
        let prefix = Self.prefix()
        defer { Self.drop(prefix) }
        let reports = NSTemporaryDirectory() + "recon-interrupt-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: reports) }
        let process = try Self.start(prefix, "day", "2026-10-01", data: data, reports: reports,
                                     environment: ["RECON_INJECT_PAUSE": "\(TaskID.runDbtModel.rawValue):600"])
        try Self.waitForPause(process, in: TaskID.runDbtModel.rawValue)
        process.send(SIGINT)
        #expect(try process.wait() == 130, "\(process.output)")
        let runID = try Self.scalar("SELECT run_id FROM recon_meta.runs WHERE schema_prefix = '\(prefix)'", String.self)
        #expect(try Self.scalar("SELECT status FROM recon_meta.runs WHERE run_id = '\(runID)'", String.self) == "interrupted")
        #expect(try ServerUnderTest.schemaCount(RunSchemas(runID: RunID(runID)!).all) == 0)
        // Nothing was published: the next run builds the day whole.
        let next = try Self.run(prefix, "day", "2026-10-01", data: data)
        #expect(next.status == 0, "\(next.output)")
        #expect(!next.output.contains("ended without finishing"))
    }

    @Test func twoRunsOfOnePrefixAreSerialised() throws {
        let data = try Self.landing(days: 1, seed: 83)
        defer { try? FileManager.default.removeItem(atPath: data) }
        let prefix = Self.prefix()
        defer { Self.drop(prefix) }
        let reports = NSTemporaryDirectory() + "recon-serial-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: reports) }

        let first = try Self.start(prefix, "day", "2026-10-01", data: data, reports: reports + "/1",
                                   environment: ["RECON_INJECT_PAUSE": "\(TaskID.runDbtModel.rawValue):4"])
        try Self.waitForPause(first, in: TaskID.runDbtModel.rawValue)
        let refused = try Self.run(prefix, "day", "2026-10-01", data: data, environment: [:], extra: ["--no-wait"])
        #expect(refused.status == 3, "\(refused.output)")
        #expect(refused.output.contains("schema prefix \(prefix) is being run by r"), "\(refused.output)")
        let second = try Self.start(prefix, "day", "2026-10-01", data: data, reports: reports + "/2")
        #expect(try first.wait() == 0, "\(first.output)")
        #expect(try second.wait() == 0, "\(second.output)")
        #expect(second.output.contains("waiting: schema prefix \(prefix) is being run by"), "\(second.output)")
        let overlapping = try Self.scalar("""
            SELECT count(*) FROM recon_meta.runs a JOIN recon_meta.runs b ON a.run_id < b.run_id
            WHERE a.schema_prefix = '\(prefix)' AND b.schema_prefix = '\(prefix)'
              AND a.started_at < b.finished_at AND b.started_at < a.finished_at
            """, Int.self)
        #expect(overlapping == 0)
        #expect(try Self.scalar("SELECT count(*) FROM recon_meta.runs WHERE schema_prefix = '\(prefix)' AND status = 'succeeded'", Int.self) == 2)
    }

    @Test func backfillReplaysARangeAndATransientFailureIsRetried() throws {
        let data = try Self.landing(days: 3, seed: 89)
        defer { try? FileManager.default.removeItem(atPath: data) }
        let (filled, single) = (Self.prefix(), Self.prefix())
        defer { Self.drop(filled); Self.drop(single) }
        let reports = NSTemporaryDirectory() + "recon-backfill-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: reports) }
        // The first attempt of the model build loses its connection (the server ends the session).
        let result = try ReconProcess.run(
            try Self.arguments("backfill", prefix: filled, grain: "day", data: data, reports: reports)
                + ["--from", "2026-10-01", "--to", "2026-10-03", "--verbose"],
            environment: ["RECON_INJECT_FAULT": "\(TaskID.runDbtModel.rawValue):1"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.components(separatedBy: "run_dbt_model: attempt 1 failed").count == 4, "\(result.output)")
        #expect(result.output.contains("run_dbt_model:") && result.output.contains("(attempt 2)"))
        for day in ["2026-10-01", "2026-10-02", "2026-10-03"] {
            #expect(FileManager.default.fileExists(atPath: "\(reports)/\(day)/results.json"))
        }
        // The third day's report shows each check's last three outcomes, and the run's tasks with their attempts.
        let html = try String(contentsOfFile: reports + "/2026-10-03/recon-report.html", encoding: .utf8)
        #expect(html.contains("<span class=\"trend\" title=\"last 3 runs, oldest first\">"))
        #expect(html.contains("<td>run_dbt_model</td><td>succeeded</td><td class=\"n\">2</td>"))
        let results = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: reports + "/2026-10-03/results.json"))) as? [String: Any]
        #expect(results?["period"] as? String == "2026-10-03")
        #expect((results?["tasks"] as? [[String: Any]])?.count == 7)
        let attempts = try Self.scalar("""
            SELECT min(attempts)::text || '-' || max(attempts)::text FROM recon_meta.task_runs t JOIN recon_meta.runs r USING (run_id)
            WHERE r.schema_prefix = '\(filled)' AND t.task = 'run_dbt_model'
            """, String.self)
        #expect(attempts == "2-2")
        #expect(try Self.run(single, "day", "2026-10-03", data: data).status == 0)
        #expect(try Self.snapshot(filled, layers: ["ads"]) == Self.snapshot(single, layers: ["ads"]))
    }
}

@Suite("recon server: a local warehouse that outlives the command")
struct LocalServerTests {
    @Test func aServerKeepsItsWarehouseAcrossStopAndStartAndNeverPrintsItsPassword() throws {
        let directory = NSTemporaryDirectory() + "recon-srv-\(UUID().uuidString.prefix(8))"
        let port = String(Int.random(in: 20_000...29_999))
        defer {
            _ = try? ReconProcess.run(["server", "stop", "--dir", directory])
            try? FileManager.default.removeItem(atPath: directory)
        }
        let started = try ReconProcess.run(["server", "start", "--dir", directory, "--port", port])
        #expect(started.status == 0, "\(started.output)")
        let password = try String(contentsOfFile: directory + "/password", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(password.count >= 20)
        #expect(!started.output.contains(password), "the password was printed")
        let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/password")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try ReconProcess.run(["server", "status", "--dir", directory]).status == 0)
        // The password opens it; nothing else does.
        #expect(throws: (any Error).self) { _ = try Connection(.url("postgresql://postgres@127.0.0.1:\(port)/postgres?connect_timeout=5")) }
        let connection = try Connection(.url("postgresql://postgres:\(password)@127.0.0.1:\(port)/postgres"))
        try connection.execute("CREATE TABLE kept (note text)")
        try connection.execute("INSERT INTO kept VALUES ('still here')")
        // recon finds the password through PGPASSFILE, as the start command says.
        let doctor = try ReconProcess.run(["doctor", "--db", "postgresql://postgres@127.0.0.1:\(port)/postgres"],
                                          environment: ["PGPASSFILE": directory + "/pgpass"])
        #expect(doctor.output.contains("127.0.0.1:\(port)") && !doctor.output.contains(password), "\(doctor.output)")
        #expect(try ReconProcess.run(["server", "stop", "--dir", directory]).status == 0)
        #expect(try ReconProcess.run(["server", "status", "--dir", directory]).status == 3)
        #expect(try ReconProcess.run(["server", "start", "--dir", directory]).status == 0)
        let again = try Connection(.url("postgresql://postgres:\(password)@127.0.0.1:\(port)/postgres"))
        #expect(try again.query("SELECT note FROM kept").scalar(String.self) == "still here")
        // Doctor names the server by its folder; a missing folder asked for is a problem.
        let named = try ReconProcess.run(["doctor", "--server-dir", directory])
        #expect(named.output.contains("ok   local server \(directory): running") && named.output.contains("PGPASSFILE=\(directory)/pgpass"),
                "\(named.output)")
        #expect(!named.output.contains(password))
        let absent = try ReconProcess.run(["doctor", "--server-dir", directory + "-none"])
        #expect(absent.status == 3 && absent.output.contains("FAIL local server \(directory)-none: no server in this folder"), "\(absent.output)")
        // Started again on another port, it moves there and its password file follows.
        #expect(try ReconProcess.run(["server", "stop", "--dir", directory]).status == 0)
        let other = String(Int(port)! + 1)
        #expect(try ReconProcess.run(["server", "start", "--dir", directory, "--port", other]).status == 0)
        let moved = try ReconProcess.run(["doctor", "--db", "postgresql://postgres@127.0.0.1:\(other)/postgres"],
                                         environment: ["PGPASSFILE": directory + "/pgpass"])
        #expect(moved.status == 0, "\(moved.output)")
        #expect(try ReconProcess.run(["server", "status", "--dir", directory]).output.contains("127.0.0.1:\(other)"))
    }
}
