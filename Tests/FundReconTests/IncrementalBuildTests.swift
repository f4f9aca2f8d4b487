import Foundation
import Postgres
import Testing

@testable import FundRecon

/// A persistent warehouse built run by run with incremental models equals one built whole from
/// the same files, table for table and row for row (load times aside): across a month boundary
/// (a refund of a September order in October), a Stripe file that arrives five days late, an
/// extract row sent again hours later, and the DST day, hour by hour (issue 14).
@Suite("Incremental models: built run by run, the warehouse equals one built whole", .serialized)
struct IncrementalBuildTests {
    static let zone = "Europe/Amsterdam"

    /// Runs one period of `prefix` (imports and builds, no checks or reports).
    static func run(_ prefix: String, _ period: Period, data: String, rebuild: Bool = false, recordStatements: Bool = false) throws -> RunResult {
        var request = RunRequest(expectationsPath: repositoryRoot + "/expectations/fund_recon.yml",
                                 pipelineDirectory: repositoryRoot + "/pipeline", reportsDirectory: "")
        request.vars = ["business_timezone": zone]
        request.recordStatements = recordStatements
        request.formats = []
        request.tasks = [.initializeETLEnvironment, .importMainData, .importResellerData, .runDbtInitTasks, .runDbtModel]
        var options = PeriodRunOptions(target: try SharedCluster.target(), prefix: prefix, period: period)
        options.dataDirectory = data
        options.rebuild = rebuild
        return try Orchestrator.run(request, kind: .period(options), interrupts: nil, logger: quietLogger, progress: { _ in })
    }

    /// Rows of `a` not in `b` and of `b` not in `a` (as multisets), per table of the built layers.
    static func differences(_ a: String, _ b: String) throws -> [String: Int] {
        let connection = try SharedCluster.connect()
        var result: [String: Int] = [:]
        for layer in ["dwd", "dws", "ads"] {
            let names = try connection.query("""
                SELECT table_name FROM information_schema.tables WHERE table_schema = \(a + "_" + layer) ORDER BY 1
                """).rows.map { try $0.decode(String.self, at: 0) }
            for name in names {
                let columns = try connection.query("""
                    SELECT column_name FROM information_schema.columns
                    WHERE table_schema = \(a + "_" + layer) AND table_name = \(name) AND column_name <> '_loaded_at' ORDER BY ordinal_position
                    """).rows.map { "\(identifier: try $0.decode(String.self, at: 0))" as SQL }.joined(separator: ", ")
                let (left, right): (SQL, SQL) = ("\(schema: a + "_" + layer, table: name)", "\(schema: b + "_" + layer, table: name)")
                let count: Int = try connection.query("""
                    SELECT (SELECT count(*) FROM (SELECT \(columns) FROM \(left) EXCEPT ALL SELECT \(columns) FROM \(right)) x)
                         + (SELECT count(*) FROM (SELECT \(columns) FROM \(right) EXCEPT ALL SELECT \(columns) FROM \(left)) y)
                    """).scalar()
                result[layer + "." + name] = count
            }
        }
        return result
    }

    /// The warehouse tables that a merged model's batch (its increment's SELECT, as recorded) can
    /// only read whole, by PostgreSQL's plan with sequential scans disabled: a predicate no index
    /// can answer (an OR of a subquery and another condition, a function of the key) reads the
    /// table whole every hour, however few rows the hour brings. Reference data (merchants,
    /// resellers, vouchers, the fee seed) and the tables of one row per payout or reseller file
    /// grow with the days, not the orders (56 and 116 rows in a 10,000,000-order month), and may
    /// be read whole.
    static func wholeReads(in batches: [(model: Substring, select: String)], prefix: String) throws -> [String] {
        let connection = try SharedCluster.connect()
        let reference = ["merchants", "resellers", "vouchers", "gateway_fee_schedule", "ods_stripe_payouts", "ods_reseller_files"]
        var found: Set<String> = []
        for (model, select) in batches {
            let plan = try connection.transaction { connection in
                try connection.execute("SET LOCAL enable_seqscan = off")
                return try connection.query(SQL(unsafeSQL: "EXPLAIN (COSTS OFF) " + select)).rows.map { try $0.decode(String.self, at: 0) }
            }
            for line in plan {
                guard let range = line.range(of: "Seq Scan on ") else { continue }
                let table = line[range.upperBound...].prefix { $0 != " " }
                guard !reference.contains(where: { table.hasSuffix($0) }) else { continue }
                // The plan names the table without its schema: one of the warehouse's, or the batch itself.
                let schemas: [String] = try connection.query("""
                    SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE c.relname = \(String(table)) AND n.nspname LIKE \(prefix + "\\_%")
                    """).rows.map { try $0.decode(String.self, at: 0) }
                if !schemas.isEmpty { found.insert("\(model) reads \(schemas[0]).\(table) whole") }
            }
        }
        return found.sorted()
    }

    /// The merged models' batches among a build's recorded statements (`CREATE TEMPORARY TABLE
    /// "<model>__batch" ON COMMIT DROP AS` and the increment's SELECT): each model and its SELECT.
    static func batches(in statements: [String]) -> [(model: Substring, select: String)] {
        let head = "CREATE TEMPORARY TABLE \""
        return statements.compactMap { statement in
            guard statement.hasPrefix(head), let tail = statement.range(of: "__batch\" ON COMMIT DROP AS\n") else { return nil }
            return (statement[statement.index(statement.startIndex, offsetBy: head.count)..<tail.lowerBound], String(statement[tail.upperBound...]))
        }
    }

    static func drop(_ prefix: String) {
        guard let connection = try? SharedCluster.connect() else { return }
        for layer in Layer.allCases { _ = try? connection.execute("DROP SCHEMA IF EXISTS \(identifier: prefix + "_" + layer.rawValue) CASCADE") }
        for table in ["partitions", "watermarks", "loaded_files", "build_inputs", "model_builds", "source_epochs", "extract_indexes", "extract_index_hours", "batch_days"] {
            _ = try? connection.execute("DELETE FROM recon_meta.\(identifier: table) WHERE schema_prefix = \(prefix)")
        }
    }

    @Test func runByRunEqualsWhole() throws {
        let data = NSTemporaryDirectory() + "recon-incremental-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: data) }
        let spec = GeneratorSpec(seed: 14, start: try #require(CalendarDate("2026-09-28")), days: 30, ordersPerDay: 25,
                                 businessTimeZone: Self.zone)
        _ = try DatasetGenerator.generate(spec, to: data, logger: quietLogger)
        // An order of the DST night sent again three hours later (the first one is kept, the copy reported).
        let orders = data + "/oltp/orders.csv"
        var lines = try String(contentsOfFile: orders, encoding: .utf8).split(separator: "\n").map(String.init)
        let night = try #require(lines.firstIndex { $0.hasSuffix("2026-10-25T01:") || $0.contains(",2026-10-25T0") })
        var copy = lines[night].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let created = try #require(TimestampParser.parse(copy[10]))
        copy[10] = ISO8601DateFormatter().string(from: created.addingTimeInterval(3 * 3600))
        lines.append(copy.joined(separator: ","))
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: orders))
        // A commission charge of a daily run's day sent again in an hour of 10-24 (its order came long
        // before): dwd_unique_commissions and dwd_commissions both count the second row.
        let commissions = data + "/oltp/commissions.csv"
        var commissionLines = try String(contentsOfFile: commissions, encoding: .utf8).split(separator: "\n").map(String.init)
        let charged = try #require(commissionLines.firstIndex { $0.contains(",,") && $0.hasSuffix("Z") && $0.contains(",2026-10-20T") })
        var resentCommission = commissionLines[charged].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        resentCommission[8] = "2026-10-24T05:30:00Z"
        commissionLines.append(resentCommission.joined(separator: ","))
        try Data((commissionLines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: commissions))
        // A Stripe capture of 10-12 whose extract row says 10-24T06: its settlement line (10-12's file)
        // matches nothing until that hour, then its reference moves from the line's day to the
        // payment's, so 10-12's figures in ads_gateway_recon_daily change without a row of that day merged.
        let payments = data + "/oltp/payments.csv"
        var paymentLines = try String(contentsOfFile: payments, encoding: .utf8).split(separator: "\n").map(String.init)
        let capture = try #require(paymentLines.firstIndex { $0.contains(",stripe,") && $0.contains(",captured,2026-10-12T1") })
        var delayed = paymentLines[capture].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        delayed[7] = "2026-10-24T06:15:00Z"
        paymentLines[capture] = delayed.joined(separator: ",")
        try Data((paymentLines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: payments))
        // ... and whose charge line the next day's file holds again: until the payment comes its two
        // lines lie on two days; then the payment's row knows only the later one.
        let stripeDays = (12...16).map { data + "/gateway/stripe/payout_reconciliation_2026-10-\($0).csv" }
        let holding = try #require(stripeDays.dropLast().firstIndex { path in
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").contains(",charge,\(delayed[3]),")
        })
        let line = try #require(try String(contentsOfFile: stripeDays[holding], encoding: .utf8).split(separator: "\n")
            .first { $0.contains(",charge,\(delayed[3]),") })
        var nextDay = try String(contentsOfFile: stripeDays[holding + 1], encoding: .utf8).split(separator: "\n").map(String.init)
        nextDay.insert("txn_again" + line.drop { $0 != "," }, at: 1)
        try Data((nextDay.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: stripeDays[holding + 1]))
        // A Stripe payment of 10-13 that failed, whose charge line a file loaded by a daily run still
        // holds, and a capture of its order under the same reference in an hour of 10-24: the line is
        // in no row of the recon until then (its payment is not captured, and it is not an orphan),
        // so the hour finds it only by asking which references have a payment not captured.
        let failing = try #require(paymentLines.firstIndex { $0.contains(",stripe,") && $0.contains(",captured,2026-10-13T1") })
        var failed = paymentLines[failing].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let failedLine = (13...17).contains { day in
            ((try? String(contentsOfFile: data + "/gateway/stripe/payout_reconciliation_2026-10-\(day).csv", encoding: .utf8)) ?? "")
                .contains(",charge,\(failed[3]),")
        }
        #expect(failedLine, "the failed payment's charge line is in no Stripe file of 10-13..17")
        var recaptured = failed
        (failed[6], recaptured[0], recaptured[7]) = ("failed", "9000001", "2026-10-24T07:20:00Z")
        paymentLines[failing] = failed.joined(separator: ",")
        paymentLines.append(recaptured.joined(separator: ","))
        try Data((paymentLines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: payments))
        // A capture whose settlement line never comes: pending while its window runs, then missing.
        let stripe = data + "/gateway/stripe/payout_reconciliation_2026-10-05.csv"
        var stripeLines = try String(contentsOfFile: stripe, encoding: .utf8).split(separator: "\n").map(String.init)
        let charge = try #require(stripeLines.firstIndex { $0.contains(",charge,") })
        stripeLines.remove(at: charge)
        try Data((stripeLines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: stripe))
        // Reseller sales of the last days that match no order: one names an order that does not
        // exist (its order is left without a sale too), one has another amount than its order.
        var altered = 0
        for day in ["2026-10-24", "2026-10-25", "2026-10-26", "2026-10-27"] where altered < 2 {
            for file in ["RS002.csv", "RS004.csv"] where altered < 2 {
                let path = data + "/resellers/\(day)/\(file)"
                guard var rows = try? String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init),
                      let sale = rows.firstIndex(where: { $0.hasPrefix("D,") }) else { continue }
                var fields = rows[sale].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                if altered == 0 { fields[4] = "999999999" } else { fields[7] = "9999.99" }
                rows[sale] = fields.joined(separator: ",")
                try Data((rows.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
                altered += 1
            }
        }
        #expect(altered == 2, "no reseller CSV sale on the hourly days to alter")
        // A reseller sale loaded by a daily run that names a reseller order of an hourly run (its
        // amount and currency): unmatched until that hour, then matched by the order's increment alone.
        let orderRows = try String(contentsOfFile: orders, encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let laterOrder = try #require(orderRows.first { $0.count > 10 && $0[3] == "reseller" && $0[10] >= "2026-10-24T04" && $0[10] < "2026-10-24T20" },
                                      "no reseller order on 10-24")
        let earlySales = ["RS002", "RS004"].flatMap { file in (5...15).map { data + "/resellers/2026-10-\(String(format: "%02d", $0))/\(file).csv" } }
        let earlySale = try #require(earlySales.first { path in
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").contains("\nD,")
        }, "no reseller CSV sale before 10-16")
        var earlyRows = try String(contentsOfFile: earlySale, encoding: .utf8).split(separator: "\n").map(String.init)
        let named = try #require(earlyRows.firstIndex { $0.hasPrefix("D,") })
        var namedFields = earlyRows[named].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        (namedFields[4], namedFields[6], namedFields[7]) = (laterOrder[0], laterOrder[5], laterOrder[6])
        earlyRows[named] = namedFields.joined(separator: ",")
        try Data((earlyRows.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: earlySale))
        // A reseller file that lands four days late holding, as well, a sale of a file loaded before
        // it: the file sorts first, so the sale moves to it and both files are counted again.
        func sales(_ path: String) -> [String] {
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init).filter { $0.hasPrefix("D,") }
        }
        let pairs = ["RS002", "RS004"].flatMap { file in (16...20).flatMap { day in (day + 1...22).map { (file, day, $0) } } }
        let (reseller, earlyDay, laterDay) = try #require(pairs.first { file, day, later in
            FileManager.default.fileExists(atPath: data + "/resellers/2026-10-\(day)/\(file).csv")
                && !sales(data + "/resellers/2026-10-\(later)/\(file).csv").isEmpty
        }, "no reseller CSV file with a sale to send again")
        let heldBack = data + "/resellers/2026-10-\(earlyDay)/\(reseller).csv", heldAside = data + "-late-reseller.csv"
        let resent = try #require(sales(data + "/resellers/2026-10-\(laterDay)/\(reseller).csv").first)
        var early = try String(contentsOfFile: heldBack, encoding: .utf8).split(separator: "\n").map(String.init)
        var fields = resent.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        fields[2] = "2026-10-\(earlyDay)"
        early.insert(fields.joined(separator: ","), at: try #require(early.firstIndex { $0.hasPrefix("T,") } ?? early.indices.last))
        try Data((early.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: heldAside))
        try FileManager.default.removeItem(atPath: heldBack)
        defer { try? FileManager.default.removeItem(atPath: heldAside) }
        // A Stripe file that lands five days late.
        let late = data + "/gateway/stripe/payout_reconciliation_2026-10-10.csv"
        let aside = data + "-late.csv"
        try FileManager.default.moveItem(atPath: late, toPath: aside)
        defer { try? FileManager.default.removeItem(atPath: aside) }

        let (incremental, whole) = ("ti" + UUID().uuidString.prefix(6).lowercased(), "tw" + UUID().uuidString.prefix(6).lowercased())
        defer { Self.drop(incremental); Self.drop(whole) }
        var periods: [Period] = Period.range(from: Period(grain: .day, day: spec.start),
                                             through: Period(grain: .day, day: try #require(CalendarDate("2026-10-23"))))
        periods += Period.range(from: try Period(parsing: "2026-10-24T00", grain: .hour), through: try Period(parsing: "2026-10-25T23", grain: .hour))
        periods += Period.range(from: try Period(parsing: "2026-10-26", grain: .day), through: try Period(parsing: "2026-10-30", grain: .day))
        var merged = 0
        var restated: [String] = []
        var statements: [String] = []
        for period in periods {
            if period.description == "2026-10-15" { try FileManager.default.moveItem(atPath: aside, toPath: late) }
            if period.description == "2026-10-24T00" { try FileManager.default.moveItem(atPath: heldAside, toPath: heldBack) }
            // The hours' statements are kept, to be planned below.
            let result = try Self.run(incremental, period, data: data, recordStatements: period.grain == .hour)
            statements += result.outputs.builds.values.flatMap(\.report.statements)
            merged += result.outputs.builds.values.flatMap(\.report.models).filter { $0.materialized == "incremental, merged" }.count
            restated += result.outputs.published.filter(\.restatement).map { "\($0.table) \($0.partition)" }
        }
        #expect(merged > 0, "no incremental model merged a batch")
        // Every increment reads the warehouse by index (issue 14: the cost of an hour follows the hour).
        let batches = Self.batches(in: statements)
        let batchedModels = Set(batches.map(\.model))
        #expect(batchedModels.count >= 20, "\(batchedModels.count) models' batches recorded")
        let wholeReads = try Self.wholeReads(in: batches, prefix: incremental)
        #expect(wholeReads.isEmpty, "\(wholeReads.joined(separator: "; "))")
        #expect(restated.contains { $0.hasSuffix("dws_gateway_daily 2026-10-10") }, "\(restated)")

        _ = try Self.run(whole, try Period(parsing: "2026-09", grain: .month), data: data, rebuild: true)
        _ = try Self.run(whole, try Period(parsing: "2026-10-30", grain: .day), data: data, rebuild: true)

        let connection = try SharedCluster.connect()
        // The extracts' indexes are kept by hour, so each hourly run read its window's hours only.
        let stored: [Int] = try connection.query("""
            SELECT count(DISTINCT i.file)::int, count(h.hour)::int, count(*) FILTER (WHERE i.blocks <> '')::int
            FROM recon_meta.extract_indexes i LEFT JOIN recon_meta.extract_index_hours h USING (schema_prefix, file)
            WHERE i.schema_prefix = \(incremental)
            """).rows.map { [try $0.decode(Int.self, at: 0), try $0.decode(Int.self, at: 1), try $0.decode(Int.self, at: 2)] }.first ?? []
        #expect(stored.count == 3 && stored[0] == Sources.extracts.filter { Ingest.eventColumns[$0.table.table] != nil }.count
                && stored[1] > 24 * 30 && stored[2] == 0, "\(stored)")
        let september: Int = try connection.query("""
            SELECT count(*) FROM \(schema: incremental + "_dwd", table: "dwd_refunds") r
            JOIN \(schema: incremental + "_dwd", table: "dwd_orders") o USING (order_id)
            WHERE o.biz_date < '2026-10-01' AND r.biz_date >= '2026-10-01'
            """).scalar()
        #expect(september > 0, "no refund of a September order in October: the case is not covered")
        let duplicates: Int = try connection.query(
            "SELECT count(*) FROM \(schema: incremental + "_dwd", table: "dwd_removed_duplicates") WHERE source_table = 'ods_orders'").scalar()
        #expect(duplicates == 1)
        let commissionCopies: Int = try connection.query(
            "SELECT count(*) FROM \(schema: incremental + "_dwd", table: "dwd_commissions") WHERE _copies = 2").scalar()
        #expect(commissionCopies == 1, "the commission sent again is not counted twice")
        let moved: Int = try connection.query("""
            SELECT count(*) FROM \(schema: incremental + "_dwd", table: "dwd_removed_duplicates")
            WHERE source_table = 'ods_reseller_sales' AND source_file = \("resellers/2026-10-\(laterDay)/\(reseller).csv")
            """).scalar()
        #expect(moved == 1, "the re-sent sale is not kept in the late file that sorts first")

        let missing: Int = try connection.query("""
            SELECT count(*) FROM \(schema: incremental + "_ads", table: "ads_gateway_recon") WHERE match_status = 'missing_settlement'
            """).scalar()
        #expect(missing >= 1, "the capture without its line is not missing_settlement")
        let recapturedStatus: String = try connection.query("""
            SELECT match_status FROM \(schema: incremental + "_ads", table: "ads_gateway_recon") WHERE entity_key = '9000001'
            """).scalar()
        #expect(recapturedStatus == "matched", "the capture under a failed payment's reference did not find its line: \(recapturedStatus)")
        let unmatched: Int = try connection.query("""
            SELECT count(*) FROM \(schema: incremental + "_dws", table: "dws_reseller_matches") WHERE NOT matched AND side = 'sale'
            """).scalar()
        #expect(unmatched >= 2, "the altered reseller sales do not stay unmatched")
        let matchedLater: Bool = try connection.query("""
            SELECT bool_and(matched) FROM \(schema: incremental + "_dws", table: "dws_reseller_matches")
            WHERE side = 'sale' AND order_id = \(Int(laterOrder[0]) ?? 0)
            """).scalar(Bool?.self) ?? false
        #expect(matchedLater, "the sale loaded before its order is not matched once the order comes")
        let differences = try Self.differences(incremental, whole)
        #expect(differences.count >= 25)
        for (table, count) in differences.sorted(by: { $0.key < $1.key }) {
            #expect(count == 0, "\(table): \(count) rows differ between the run-by-run and the whole build")
        }
    }
}
