import Foundation
import Logging
import Postgres
import Testing

@testable import FundRecon

@Suite("recon's exit codes and one-line errors")
struct ExitCodeTests {
    /// Bad input must say the cause and the fix, in two short lines, and exit 3.
    func expectRuntimeFailure(_ result: (status: Int32, output: String), mentions: String) {
        #expect(result.status == 3)
        let lines = result.output.split(separator: "\n")
        #expect(lines.count == 2, "expected cause and fix, got: \(result.output)")
        #expect(lines.first?.hasPrefix("recon: error: ") == true)
        #expect(lines.last?.hasPrefix("  fix: ") == true)
        #expect(result.output.contains(mentions), "\(result.output)")
        #expect(!FileManager.default.fileExists(atPath: "/nonexistent"))
    }

    @Test func unreachableDatabase() throws {
        let result = try ReconProcess.run(["hold", "--seconds", "1", "--db", "postgres://app:Hunter2pw@127.0.0.1:1/wh"])
        expectRuntimeFailure(result, mentions: "Connection refused")
        #expect(!result.output.contains("Hunter2pw"))
        #expect(result.output.contains("app:***@127.0.0.1:1"))
    }

    @Test func missingServerPrograms() throws {
        let result = try ReconProcess.run(["hold", "--seconds", "1"], environment: ["RECON_PG_BINDIR": "/nonexistent/bin"])
        expectRuntimeFailure(result, mentions: "apt-get install postgresql")
    }

    @Test func unwritableTemporaryDirectory() throws {
        let result = try ReconProcess.run(["hold", "--seconds", "1"], environment: ["TMPDIR": "/nonexistent/tmp"])
        expectRuntimeFailure(result, mentions: "set TMPDIR")
    }

    @Test func roleWithoutCreatePrivilege() throws {
        let target = try ServerUnderTest.target()
        let admin = try Connection(target)
        let role = "e2e_nocreate_\(UInt32.random(in: 0...UInt32.max))"
        try admin.execute("CREATE ROLE \(identifier: role) LOGIN")
        let db = target.conninfo.replacingOccurrences(of: "user=postgres", with: "user=\(role)")
        let result = try ReconProcess.run(["hold", "--seconds", "1", "--db", db])
        expectRuntimeFailure(result, mentions: "may not create schemas")
        let owned: Int = try admin.query(
            "SELECT count(*) FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner WHERE r.rolname = \(role)"
        ).scalar()
        #expect(owned == 0)
    }

    @Test func badUsageExitsTwo() throws {
        #expect(try ReconProcess.run(["--no-such-flag"]).status == 2)
        #expect(try ReconProcess.run(["hold", "--quiet", "--verbose"]).status == 2)
        #expect(try ReconProcess.run(["gc"], environment: [:]).status == 2)
        // A mistyped option is named, whatever else the command would have said about its options.
        for arguments in [["report", "--month", "2026-10", "--bogus"], ["golden", "check", "--bogus=1"], ["audit", "--generate", "--dayz", "3"]] {
            let result = try ReconProcess.run(arguments)
            #expect(result.status == 2)
            let option = arguments.last { $0.hasPrefix("--") }!.split(separator: "=")[0]
            #expect(result.output.contains("unknown option '\(option)'"), "\(arguments): \(result.output)")
        }
    }

    @Test func doctorPassesOnThisMachineWithAServer() throws {
        let result = try ReconProcess.run(["doctor", "--db", try ServerUnderTest.target().conninfo])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("ok   embedded PostgreSQL"))
        #expect(result.output.contains("ok   schema creation"))
        #expect(result.output.contains("ok   check role: each run's checks log in as a role created for them"))
        #expect(result.output.contains("all checks passed"))
    }

    @Test func doctorNamesEachProblemWithItsFix() throws {
        let result = try ReconProcess.run(
            ["doctor", "--db", "postgres://127.0.0.1:1/x"], environment: ["RECON_PG_BINDIR": "/nonexistent/bin"])
        #expect(result.status == 3)
        #expect(result.output.contains("FAIL PostgreSQL server programs"))
        #expect(result.output.contains("FAIL database"))
        #expect(result.output.contains("2 problem(s) found"))
    }
}

@Suite("recon generate and recon load from the command line")
struct GenerateAndLoadCommandTests {
    @Test func generateThenLoadConservesEveryRow() throws {
        let directory = NSTemporaryDirectory() + "recon-e2e-data-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let generated = try ReconProcess.run([
            "generate", "--out", directory, "--seed", "9", "--start", "2026-10-01", "--days", "9", "--orders-per-day", "50",
            "--anomalies", "malformed_record=1,reseller_truncated_file=1",
        ])
        #expect(generated.status == 0, "\(generated.output)")
        #expect(generated.output.contains("anomalies injected: 2"))
        let loaded = try ReconProcess.run(["load", "--data", directory, "--db", try ServerUnderTest.target().conninfo])
        #expect(loaded.status == 0, "\(loaded.output)")
        #expect(loaded.output.contains("R11 holds"))
        #expect(loaded.output.contains("oltp/orders.csv: loaded, 1 rejected"))
        #expect(loaded.output.contains(": truncated"))
    }

    @Test func badArgumentsAndBadInputExitTwo() throws {
        #expect(try ReconProcess.run(["generate", "--out", "/tmp/x", "--start", "2026-13-01", "--days", "1",
                                      "--orders-per-day", "1"]).status == 2)
        #expect(try ReconProcess.run(["generate", "--out", "/tmp/x", "--start", "2026-10-01", "--days", "1",
                                      "--orders-per-day", "1", "--anomalies", "bogus=1"]).status == 2)
        let directory = NSTemporaryDirectory() + "recon-e2e-bad-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory + "/oltp", withIntermediateDirectories: true)
        try Data("order_id,merchant_id\n1,1\n".utf8).write(to: URL(fileURLWithPath: directory + "/oltp/orders.csv"))
        let result = try ReconProcess.run(["load", "--data", directory, "--db", try ServerUnderTest.target().conninfo])
        #expect(result.status == 2)
        #expect(result.output.contains("oltp/orders.csv:1: column customer_id: required column is missing"))
    }
}

@Suite("recon build and recon dag from the command line")
struct BuildCommandTests {
    static let pipeline = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("pipeline").path

    @Test func buildsTheWarehouseAndPrintsEveryModel() throws {
        let directory = NSTemporaryDirectory() + "recon-e2e-build-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try ReconProcess.run(["generate", "--out", directory, "--start", "2026-10-01", "--days", "8",
                                      "--orders-per-day", "40", "-q"]).status == 0)
        let result = try ReconProcess.run(["build", "--data", directory, "--pipeline", Self.pipeline,
                                           "--db", try ServerUnderTest.target().conninfo])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("ads_recon_breaks"))
        #expect(result.output.contains("gateway_fee_schedule"))
        let dag = try ReconProcess.run(["dag", "--pipeline", Self.pipeline])
        #expect(dag.status == 0)
        for task in ["initialize_etl_environment", "import_main_data", "import_reseller_data", "run_dbt_init_tasks", "run_dbt_model"] {
            #expect(dag.output.contains(task))
        }
        // Each model's upstream models once, however often it refers to them.
        for line in dag.output.split(separator: "\n") where line.contains("  <- ") {
            let upstream = line.components(separatedBy: "  <- ")[1].components(separatedBy: ", ")
            #expect(Set(upstream).count == upstream.count, "\(line)")
        }
        #expect(dag.output.contains("dws_reseller_matches  <- dwd_orders, dwd_reseller_sales\n"), "\(dag.output)")
    }

    @Test func badPipelineExitsTwoAndFailingModelExitsThree() throws {
        let directory = NSTemporaryDirectory() + "recon-e2e-pipe-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory + "/data/oltp", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/pipeline/models/dwd", withIntermediateDirectories: true)
        try Data("name: t\nvars:\n  business_timezone: UTC\n".utf8).write(to: URL(fileURLWithPath: directory + "/pipeline/project.yml"))
        let model = directory + "/pipeline/models/dwd/dwd_a.sql"
        try Data("select 1 from {{ ref('dwd_missing') }}".utf8).write(to: URL(fileURLWithPath: model))
        let db = try ServerUnderTest.target().conninfo
        let bad = try ReconProcess.run(["build", "--data", directory + "/data", "--pipeline", directory + "/pipeline", "--db", db])
        #expect(bad.status == 2)
        #expect(bad.output.contains("models/dwd/dwd_a.sql: ref('dwd_missing') names no model or seed"))
        try Data("select 1\nfrom no_such_table".utf8).write(to: URL(fileURLWithPath: model))
        let failing = try ReconProcess.run(["build", "--data", directory + "/data", "--pipeline", directory + "/pipeline", "--db", db])
        #expect(failing.status == 3)
        #expect(failing.output.contains("models/dwd/dwd_a.sql:2: model dwd_a failed: [42P01]"))
    }
}

@Suite("recon audit as a CI gate")
struct AuditCommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    func audit(_ extra: [String], reports: String) throws -> (status: Int32, output: String) {
        try ReconProcess.run(["audit", "--generate", "--days", "9", "--orders-per-day", "60", "--reports", reports,
                              "--pipeline", Self.root + "/pipeline", "--expectations", Self.root + "/expectations/fund_recon.yml",
                              "--db", try ServerUnderTest.target().conninfo] + extra)
    }

    @Test func cleanDataExitsZeroAndWritesReports() throws {
        let reports = NSTemporaryDirectory() + "recon-e2e-reports-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: reports) }
        let result = try audit([], reports: reports)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("total"))
        // On a server that outlives the run, the run, its tasks and its check results stay in recon_meta.
        let runID = try #require(result.output.split(separator: "\n").first { $0.hasPrefix("recon: run r") }
            .map { String($0.dropFirst("recon: run ".count).prefix(22)) })
        let connection = try Connection(ServerUnderTest.target())
        let history = try connection.query("""
            SELECT r.kind || ' ' || r.status || ' ' || (SELECT count(*) FROM recon_meta.task_runs t WHERE t.run_id = r.run_id)
                   || ' ' || (SELECT count(*) FROM recon_meta.check_results c WHERE c.run_id = r.run_id AND c.status = 'pass')
            FROM recon_meta.runs r WHERE r.run_id = \(runID)
            """).scalar(String.self)
        #expect(history == "audit succeeded 7 67")
        #expect(FileManager.default.fileExists(atPath: reports + "/results.json"))
        let junit = try String(contentsOfFile: reports + "/junit.xml", encoding: .utf8)
        #expect(junit.contains("<testsuite name=\"dwd\""))
        #expect(junit.contains("classname=\"ads.balance\" name=\"ads_balance_roll_forward\""))
    }

    @Test func anAnomalyFailsTheGateNamingTheCheck() throws {
        let reports = NSTemporaryDirectory() + "recon-e2e-reports-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: reports) }
        let result = try audit(["--anomalies", "duplicate_capture=1"], reports: reports)
        #expect(result.status == 1, "\(result.output)")
        #expect(result.output.contains("FAIL  order_captures_equal_amount_due"))
        #expect(result.output.contains("FAIL  breaks_duplicate_capture"))
        let junit = try String(contentsOfFile: reports + "/junit.xml", encoding: .utf8)
        // The rule broken, the table, and the first failing key.
        #expect(junit.contains("<failure message=\"expression on ads_recon_breaks: 1 failing row, expected 0; first: break_type=duplicate_capture"))
        #expect(!junit.contains("rc_r"), "no run-specific schema name in the report CI compares across runs")
    }

    @Test func badExpectationsExitTwoWithTheLine() throws {
        let file = NSTemporaryDirectory() + "recon-bad-\(UUID().uuidString).yml"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try Data("version: 1\nchecks:\n  - id: x\n    type: not_null\n    table: dwd_orders\n    colums: [order_id]\n".utf8)
            .write(to: URL(fileURLWithPath: file))
        let result = try ReconProcess.run(["audit", "--generate", "--days", "2", "--orders-per-day", "5", "--expectations", file,
                                           "--pipeline", Self.root + "/pipeline"])
        #expect(result.status == 2)
        #expect(result.output.contains("\(file):6: check x: unknown key 'colums' for type not_null"))
    }

    @Test func unreachableDatabaseExitsThree() throws {
        let result = try ReconProcess.run(["audit", "--generate", "--days", "2", "--orders-per-day", "5",
                                           "--pipeline", Self.root + "/pipeline", "--expectations", Self.root + "/expectations/fund_recon.yml",
                                           "--db", "postgres://nobody@127.0.0.1:1/none"])
        #expect(result.status == 3)
        #expect(result.output.contains("Connection refused"))
    }

    @Test func checkCommandAuditsQualifiedTablesWithoutBuilding() throws {
        let target = try ServerUnderTest.target()
        let admin = try Connection(target)
        let schema = "wh_\(UInt32.random(in: 0...UInt32.max))"
        try admin.executeScript("CREATE SCHEMA \(schema); CREATE TABLE \(schema).orders (id int); INSERT INTO \(schema).orders VALUES (1), (1)")
        defer { _ = try? admin.execute("DROP SCHEMA \(identifier: schema) CASCADE") }
        let file = NSTemporaryDirectory() + "recon-check-\(UUID().uuidString).yml"
        let reports = NSTemporaryDirectory() + "recon-check-reports-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: file); try? FileManager.default.removeItem(atPath: reports) }
        try Data("version: 1\nchecks:\n  - {id: orders_unique, type: unique, table: \(schema).orders, columns: [id]}\n".utf8)
            .write(to: URL(fileURLWithPath: file))
        let result = try ReconProcess.run(["check", "--db", target.conninfo, "--expectations", file, "--reports", reports])
        #expect(result.status == 1, "\(result.output)")
        #expect(result.output.contains("FAIL  orders_unique: 2 failing rows"))
    }
}

@Suite("The CI gate proves itself: golden regression and anomaly coverage", .serialized)
struct RegressionGateTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// A copy of pipeline/ to break on purpose.
    func pipelineCopy() throws -> String {
        let copy = NSTemporaryDirectory() + "recon-pipeline-copy-\(UUID().uuidString)"
        try FileManager.default.copyItem(atPath: Self.root + "/pipeline", toPath: copy)
        return copy
    }

    @Test func goldenCheckPassesOnTheCommittedPipeline() throws {
        let reports = NSTemporaryDirectory() + "recon-golden-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: reports) }
        let result = try ReconProcess.run(["golden", "check", "clean_month", "--golden", Self.root + "/golden", "--pipeline",
                                           Self.root + "/pipeline", "--expectations", Self.root + "/expectations/fund_recon.yml",
                                           "--reports", reports, "--db", try ServerUnderTest.target().conninfo])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("clean_month: equal"))
    }

    @Test func hourlyBucketsInUTCFailGoldenAndTheCrossPeriodCheck() throws {
        let pipeline = try pipelineCopy()
        defer { try? FileManager.default.removeItem(atPath: pipeline) }
        // The deliberate mistake: hours bucketed by the UTC clock while days use the business time zone.
        let model = pipeline + "/models/dws/dws_merchant_hourly.sql"
        let original = try String(contentsOfFile: model, encoding: .utf8)
        let text = original.replacingOccurrences(
            of: "date_trunc('hour', event_at, '{{ var('business_timezone') }}') as hour_start",
            with: "(date_trunc('hour', event_at at time zone 'UTC') at time zone '{{ var('business_timezone') }}') as hour_start")
        #expect(text != original)
        try Data(text.utf8).write(to: URL(fileURLWithPath: model))
        let reports = NSTemporaryDirectory() + "recon-golden-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: reports) }
        let result = try ReconProcess.run(["golden", "check", "clean_month", "--golden", Self.root + "/golden", "--pipeline", pipeline,
                                           "--expectations", Self.root + "/expectations/fund_recon.yml", "--reports", reports,
                                           "--db", try ServerUnderTest.target().conninfo])
        #expect(result.status == 1, "\(result.output)")
        #expect(result.output.contains("clean_month differs from its expected outputs"))
        #expect(result.output.contains("check hourly_rolls_up_to_daily: expected pass/0, got fail/"))
        let junit = try String(contentsOfFile: reports + "/golden-junit.xml", encoding: .utf8)
        #expect(junit.contains("name=\"hourly_rolls_up_to_daily\">\n      <failure message=\"expected pass/0, got fail/"))
    }

    @Test func aChangedModelShowsRowLevelDifferences() throws {
        let pipeline = try pipelineCopy()
        defer { try? FileManager.default.removeItem(atPath: pipeline) }
        // A wrong commission sign in the measures' macro: every affected merchant day changes.
        let model = pipeline + "/macros/fund_recon.sql"
        let original = try String(contentsOfFile: model, encoding: .utf8)
        let text = original.replacingOccurrences(of: "- {{ held(a, 'commission_amount') }}", with: "+ {{ held(a, 'commission_amount') }}")
        #expect(text != original)
        try Data(text.utf8).write(to: URL(fileURLWithPath: model))
        let result = try ReconProcess.run(["golden", "check", "clean_month", "--golden", Self.root + "/golden", "--pipeline", pipeline,
                                           "--expectations", Self.root + "/expectations/fund_recon.yml",
                                           "--reports", NSTemporaryDirectory() + "recon-golden-rows", "--db", try ServerUnderTest.target().conninfo])
        #expect(result.status == 1)
        #expect(result.output.contains("ads_merchant_balance_daily:"))
        #expect(result.output.contains("changed "))
        #expect(result.output.contains("net_payable "))
    }

    @Test func aWeakenedSuiteFailsCoverageNamingTheClass() throws {
        let original = try String(contentsOfFile: Self.root + "/expectations/fund_recon.yml", encoding: .utf8)
        // Drop the two checks that catch a duplicate capture.
        var lines = original.components(separatedBy: "\n")
        lines.removeAll { $0.contains("id: breaks_duplicate_capture") }
        var weakened = lines.joined(separator: "\n")
        if let start = weakened.range(of: "  - id: order_captures_equal_amount_due"),
           let end = weakened.range(of: "  - id: voucher_discounts_equal_redemptions") {
            weakened.removeSubrange(start.lowerBound..<end.lowerBound)
        }
        let file = NSTemporaryDirectory() + "recon-weak-\(UUID().uuidString).yml"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try Data(weakened.utf8).write(to: URL(fileURLWithPath: file))
        let reports = NSTemporaryDirectory() + "recon-coverage-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: reports) }
        let result = try ReconProcess.run(["coverage", "--classes", "duplicate_capture,fee_mismatch", "--expectations", file,
                                           "--pipeline", Self.root + "/pipeline", "--reports", reports, "--db", try ServerUnderTest.target().conninfo])
        #expect(result.status == 1, "\(result.output)")
        #expect(result.output.contains("coverage failed: no check catches duplicate_capture"))
        #expect(result.output.contains("fee_mismatch                      R6    breaks_fee_mismatch"))
        let json = try String(contentsOfFile: reports + "/coverage.json", encoding: .utf8)
        #expect(json.contains("\"class\" : \"duplicate_capture\""))
    }
}

@Suite("recon report --month: the finance pack")
struct MonthlyReportTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test func packFromAKeptRunAndFromData() throws {
        let db = try ServerUnderTest.target().conninfo
        let reports = NSTemporaryDirectory() + "recon-monthly-\(UUID().uuidString)"
        let data = NSTemporaryDirectory() + "recon-monthly-data-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: reports); try? FileManager.default.removeItem(atPath: data) }
        #expect(try ReconProcess.run(["generate", "--out", data, "--start", "2026-10-20", "--days", "16", "--orders-per-day", "30",
                                      "--anomalies", "missing_settlement=1", "-q"]).status == 0)
        let common = ["--pipeline", Self.root + "/pipeline", "--expectations", Self.root + "/expectations/fund_recon.yml", "--reports", reports]
        let audit = try ReconProcess.run(["audit", "--data", data, "--db", db, "--keep-schemas"] + common)
        #expect(audit.status == 1)
        let runID = try #require(audit.output.split(separator: "\n").first { $0.hasPrefix("recon: run r") }
            .map { String($0.dropFirst("recon: run ".count).prefix(22)) })
        defer {
            if let connection = try? Connection(ServerUnderTest.target()) {
                try? RunSession.drop(schemas: ["oltp", "ods", "dwd", "dws", "ads"].map { "rc_\(runID)_\($0)" }, on: connection)
            }
        }
        for file in ["junit.xml", "results.json"] { try? FileManager.default.removeItem(atPath: reports + "/" + file) }
        let kept = try ReconProcess.run(["report", "--month", "2026-11", "--db", db, "--run", runID] + common)
        // The pack is written, and the exit code is the gate's, as audit's: a check failed.
        #expect(kept.status == 1, "\(kept.output)")
        // What it says it wrote is there.
        let line = try #require(kept.output.split(separator: "\n").first { $0.hasPrefix("reports: ") })
        for file in ["monthly-2026-11.html", "monthly-2026-11.xlsx", "junit.xml", "results.json"] {
            #expect(line.contains(file), "\(line)")
            #expect(FileManager.default.fileExists(atPath: reports + "/" + file), "\(file)")
        }
        let html = try String(contentsOfFile: reports + "/monthly-2026-11.html", encoding: .utf8)
        #expect(html.contains("Monthly audit pack 2026-11"))
        #expect(html.contains("Merchant statements"))
        #expect(html.contains("Gateway settlement summary"))
        #expect(html.contains("Sign-off"))
        #expect(FileManager.default.fileExists(atPath: reports + "/monthly-2026-11.xlsx"))

        let fromData = try ReconProcess.run(["report", "--month", "2026-10", "--data", data, "--db", db, "--format", "html"] + common)
        #expect(fromData.status == 1, "\(fromData.output)")
        #expect(fromData.output.contains("reports: \(reports)/ (monthly-2026-10.html)"), "\(fromData.output)")
        #expect(FileManager.default.fileExists(atPath: reports + "/monthly-2026-10.html"))
        #expect(try ReconProcess.run(["report", "--month", "2026-13", "--data", data]).status == 2)
        #expect(try ReconProcess.run(["report", "--month", "2026-11", "--db", db, "--run", "r20000101000000_000000"] + common).status == 3)
    }
}

@Suite("Materiality and waivers as EXPECTATIONS.md writes them")
struct WaiverGateTests {
    /// An expectations file written from the contract alone: its waivers and materiality are
    /// honoured, `--waivers FILE` adds waivers, and a waiver of no check is exit 2 naming the line.
    @Test func waiversAndMaterialityGateTheRun() throws {
        let directory = NSTemporaryDirectory() + "recon-waivers-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let expectations = directory + "/expectations.yml"
        try Data("""
            version: 1
            checks:
              - id: captures_settle
                type: reconcile
                left: {table: dwd_payments, keys: [gateway_txn_ref], amount: amount, where: "status = 'captured'"}
                right: {table: dwd_gateway_settlements, keys: [gateway_txn_ref], amount: gross, where: "line_type = 'charge'"}
                tolerance: 0.01
                materiality: {amount: 1.00}
            waivers:
              - check: captures_settle
                reason: settlements of the month's last days arrive after it
                approved_by: J. Doe
                expires: 2026-12-31

            """.utf8).write(to: URL(fileURLWithPath: expectations))
        let common = ["audit", "--generate", "--days", "3", "--orders-per-day", "100", "--anomalies", "missing_settlement=2,orphan_settlement=2", "--db", try ServerUnderTest.target().conninfo,
                      "--as-of", "2026-10-04T00:00:00Z", "--format", "json", "-q"]
        let waived = try ReconProcess.run(common + ["--expectations", expectations, "--reports", directory + "/r1"])
        #expect(waived.status == 0, "\(waived.output)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/r1/results.json"))) as? [String: Any])
        let check = try #require((json["checks"] as? [[String: Any]])?.first)
        #expect(check["status"] as? String == "waived")
        #expect((check["money_at_stake"] as? [String: String])?.isEmpty == false)
        #expect(((json["waivers"] as? [[String: Any]])?.first?["status"]) as? String == "applied")
        #expect((json["summary"] as? [String: Any])?["waived"] as? Int == 1)
        // The evidence: the tool, who ran it, the as_of, every input file with its SHA-256 and counts.
        let evidence = try #require(json["evidence"] as? [String: Any])
        #expect(evidence["tool_version"] as? String == Evidence.toolVersion)
        #expect((evidence["user"] as? String)?.isEmpty == false && (evidence["host"] as? String)?.isEmpty == false)
        #expect(evidence["as_of"] as? String == "2026-10-04T00:00:00.000Z")
        let inputs = evidence["inputs"] as? [[String: Any]] ?? []
        #expect(inputs.contains { $0["file"] as? String == "oltp/orders.csv" && ($0["sha256"] as? String)?.count == 64 && ($0["rows_read"] as? Int ?? 0) > 0 })

        // The same file without its waiver fails: the money at stake is above 1.00.
        let bare = directory + "/bare.yml"
        let text = try String(contentsOfFile: expectations, encoding: .utf8)
        try Data(String(text[..<text.range(of: "waivers:")!.lowerBound]).utf8).write(to: URL(fileURLWithPath: bare))
        #expect(try ReconProcess.run(common + ["--expectations", bare, "--reports", directory + "/r2"]).status == 1)
        // The waiver from a --waivers file instead: waived again.
        let waivers = directory + "/waivers.yml"
        try Data(("waivers:\n" + String(text[text.range(of: "waivers:\n")!.upperBound...])).utf8).write(to: URL(fileURLWithPath: waivers))
        #expect(try ReconProcess.run(common + ["--expectations", bare, "--waivers", waivers, "--reports", directory + "/r3"]).status == 0)
        // A waiver of a check that does not exist is bad input, with its file and line.
        try Data("waivers:\n  - {check: nope, reason: r, approved_by: a, expires: 2026-12-31}\n".utf8).write(to: URL(fileURLWithPath: waivers))
        let bad = try ReconProcess.run(common + ["--expectations", bare, "--waivers", waivers, "--reports", directory + "/r4"])
        #expect(bad.status == 2)
        #expect(bad.output.contains("waivers.yml:2"), "\(bad.output)")
        #expect(bad.output.contains("the waiver names no existing check: 'nope'"), "\(bad.output)")
    }
}

@Suite("The pack as a document: PDF through headless Chromium")
struct PDFPackTests {
    /// `--format pdf` prints the pack with every section open; without Chromium it says how to get it.
    @Test func thePackPrintsToPDFOrSaysWhatIsMissing() throws {
        let directory = NSTemporaryDirectory() + "recon-pdf-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try ReconProcess.run(["generate", "--out", directory + "/data", "--start", "2026-10-01", "--days", "3",
                                      "--orders-per-day", "60", "--anomalies", "missing_settlement=1", "-q"]).status == 0)
        let common = ["report", "--month", "2026-10", "--data", directory + "/data", "--db", try ServerUnderTest.target().conninfo,
                      "--pipeline", AuditCommandTests.root + "/pipeline", "--expectations", AuditCommandTests.root + "/expectations/fund_recon.yml",
                      "--format", "html,pdf", "-q"]
        let missing = try ReconProcess.run(common + ["--reports", directory + "/none"], environment: ["PATH": "/nonexistent"])
        #expect(missing.status == 3, "\(missing.output)")
        #expect(missing.output.contains("--format pdf needs headless Chromium") && missing.output.contains("apt-get install chromium"),
                "\(missing.output)")
        // make setup installs Chromium; where it is not installed, the message above is the whole story.
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") else { return }
        let printed = try ReconProcess.run(common + ["--reports", directory + "/pdf"])
        #expect(printed.status == 1, "\(printed.output)")
        let pdf = try Data(contentsOf: URL(fileURLWithPath: directory + "/pdf/monthly-2026-10.pdf"))
        #expect(pdf.starts(with: Array("%PDF".utf8)))
        #expect(pdf.count > 20_000)
        let html = try String(contentsOfFile: directory + "/pdf/monthly-2026-10.html", encoding: .utf8)
        #expect(html.contains("@page{size:A4 landscape"))
        #expect(html.contains("<thead><tr><th>Merchant</th>"))
        // On a screen 1,024 pixels wide the page does not run off to the right: the wide tables (the
        // bridge, statements, settlement summary) scroll within themselves (the bridge pushed the page
        // to 1,230 pixels).
        let probe = directory + "/probe.html"
        try Data((html + "<script>const d=document.createElement('pre');d.id='probe';d.textContent='width '"
                  + "+document.documentElement.scrollWidth+' of '+document.documentElement.clientWidth;document.body.appendChild(d);</script>").utf8)
            .write(to: URL(fileURLWithPath: probe))
        let dom = try ProcessRunner.run("/usr/bin/chromium", ["--headless", "--no-sandbox", "--disable-gpu", "--window-size=1024,1600",
                                                              "--dump-dom", "file://" + probe]).output
        let widths = try #require(dom.range(of: "width [0-9]+ of [0-9]+", options: .regularExpression).map { dom[$0].split(separator: " ") })
        #expect(widths.count == 4 && Int(widths[1]) == Int(widths[3]), "the page is wider than the screen: \(widths)")
        // The HTML as written prints every section open, as a browser's own print would: the SQL of
        // each check (closed on screen) and the input files are in the PDF's text.
        #expect(html.contains("<details class=\"sql\"><summary>SQL</summary>"), "the SQL is collapsed on screen")
        let python = AuditCommandTests.root + "/.venv/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else { return }
        let text = try ProcessRunner.run(python, ["-c", "import sys, pypdf; print(''.join(p.extract_text() for p in pypdf.PdfReader(sys.argv[1]).pages))",
                                                  directory + "/pdf/monthly-2026-10.pdf"]).output
        let checks = html.components(separatedBy: "<details class=\"sql\">").count - 1
        #expect(checks > 40)
        #expect(text.components(separatedBy: "SELECT").count - 1 >= checks, "every check's SQL is printed")
        #expect(text.contains("orders.csv"), "the input files are printed")
    }
}

@Suite("recon on an embedded Citus cluster")
struct EmbeddedCitusTests {
    /// A throwaway coordinator and two workers, quiet.
    static func twoWorkers() throws -> ProvidedDatabase {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return try ProvidedDatabase(.embeddedCitus(workers: 2), logger: logger)
    }

    /// The whole audit on a throwaway coordinator and worker, the database named as such.
    /// results.json says where the run's distributed rows lay: on the two workers, spread, none on the coordinator.
    @Test func anAuditRunsOnAnEmbeddedCitusCluster() throws {
        let reports = NSTemporaryDirectory() + "recon-citus-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: reports) }
        let result = try ReconProcess.run(["audit", "--embedded-citus", "2", "--generate", "--days", "2", "--orders-per-day", "40",
                                           "--pipeline", AuditCommandTests.root + "/pipeline",
                                           "--expectations", AuditCommandTests.root + "/expectations/fund_recon.yml",
                                           "--reports", reports, "--format", "json", "-q"])
        #expect(result.status == 0, "\(result.output)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: reports + "/results.json"))) as? [String: Any]
        #expect(json?["database"] as? String == "embedded Citus (2 workers)")
        let placement = json?["placement"] as? [[String: Any]] ?? []
        #expect(placement.count == 2, "\(placement)")
        let rows = placement.map { $0["rows"] as? Int ?? 0 }
        let total = rows.reduce(0, +)
        #expect(total > 200 && rows.allSatisfy { $0 * 4 > total }, "both workers hold a share: \(placement)")
        #expect(placement.allSatisfy { ($0["shards"] as? Int ?? 0) > 0 && ($0["bytes"] as? Int ?? 0) > 0 })
        #expect(try ReconProcess.run(["audit", "--embedded-citus", "0", "--generate"]).status == 2)
        #expect(try ReconProcess.run(["audit", "--embedded-citus", "1", "--db", "postgres://x@h/db", "--generate"]).status == 2)
    }

    /// On Citus an audit's build commits model by model (the files a repartitioned statement leaves
    /// on the workers go at each commit, not all at the build's end): while the build waits before
    /// its end, another session sees its models. An attempt that fails after committing them is
    /// retried and makes them again.
    @Test func anAuditsBuildOnCitusCommitsModelByModelAndARetryMakesThemAgain() throws {
        let database = try Self.twoWorkers()
        defer { database.close() }
        let reports = NSTemporaryDirectory() + "recon-citus-models-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: reports) }
        let audit = ["audit", "--db", database.target.conninfo, "--generate", "--days", "2", "--orders-per-day", "40",
                     "--pipeline", AuditCommandTests.root + "/pipeline", "--expectations", AuditCommandTests.root + "/expectations/fund_recon.yml",
                     "--reports", reports, "--format", "json"]
        let paused = try ReconProcess.start(audit, environment: ["RECON_INJECT_PAUSE": "\(TaskID.runDbtModel.rawValue):600"])
        try PersistentRunTests.waitForPause(paused, in: TaskID.runDbtModel.rawValue)
        let committed = try Connection(database.target).query("""
            SELECT count(*) FROM pg_tables WHERE schemaname LIKE 'rc\\_%\\_ads' OR schemaname LIKE 'rc\\_%\\_dwd'
            """).scalar(Int.self)
        paused.send(SIGTERM)
        _ = try paused.wait()
        #expect(committed >= 20, "the build's models are committed as they are made: \(committed) seen from another session")
        let retried = try ReconProcess.run(audit, environment: ["RECON_INJECT_FAULT": "\(TaskID.runDbtModel.rawValue):1"])
        #expect(retried.status == 0, "\(retried.output)")
        #expect(retried.output.contains("injected fault on attempt 1"), "\(retried.output)")
    }

    /// A persistent warehouse on a Citus coordinator, its tables distributed as the models declare:
    /// three hourly runs, then the day, give the tables one PostgreSQL gives.
    @Test func hourlyRunsOnCitusEqualOnePostgreSQL() throws {
        let data = try PersistentRunTests.landing(days: 2)
        defer { try? FileManager.default.removeItem(atPath: data) }
        let database = try Self.twoWorkers()
        defer { database.close() }
        let prefix = PersistentRunTests.prefix()
        defer { PersistentRunTests.drop(prefix) }
        for (grain, period) in [("hour", "2026-10-02T21"), ("hour", "2026-10-02T22"), ("hour", "2026-10-02T23"), ("day", "2026-10-02")] {
            for db in [database.target.conninfo, try ServerUnderTest.target().conninfo] {
                let reports = NSTemporaryDirectory() + "recon-run-reports-\(UUID().uuidString)"
                defer { try? FileManager.default.removeItem(atPath: reports) }
                let arguments = try PersistentRunTests.arguments("run", prefix: prefix, grain: grain, data: data, reports: reports, db: db)
                let run = try ReconProcess.run(arguments + ["--period", period])
                #expect(run.status == 0, "\(period) on \(db): \(run.output)")
            }
        }
        let (citus, single) = (try PersistentRunTests.snapshot(prefix, on: database.target), try PersistentRunTests.snapshot(prefix))
        #expect(!citus.isEmpty && citus == single)
        // The published tables are laid out as the build's: dwd_orders distributed on order_id.
        let layout = try Connection(database.target).query(SQL(unsafeSQL:
            "SELECT citus_table_type || ' ' || coalesce(distribution_column, '') FROM citus_tables WHERE table_name = '\(prefix)_dwd.dwd_orders'::regclass"
        )).scalar(String.self)
        #expect(layout == "distributed order_id")
        // The warehouse's fact sources are distributed on their keys as a run's are, their rows on the workers.
        let sources = try Connection(database.target).query(SQL(unsafeSQL: """
            SELECT c.relname || ' ' || t.citus_table_type || ' ' || coalesce(t.distribution_column, '')
            FROM citus_tables t JOIN pg_class c ON c.oid = t.table_name JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = '\(prefix)_ods' AND c.relname IN ('ods_orders', 'ods_payments', 'ods_commissions') ORDER BY 1
            """)).rows.map { try $0.decode(String.self, at: 0) }
        #expect(sources == ["ods_commissions distributed commission_id", "ods_orders distributed order_id", "ods_payments distributed payment_id"])
        let nodes = try Connection(database.target).query(SQL(unsafeSQL:
            "SELECT DISTINCT nodename FROM citus_shards WHERE table_name = '\(prefix)_ods.ods_orders'::regclass AND shard_size > 0"
        )).rows.map { try $0.decode(String.self, at: 0) }
        #expect(Set(nodes) == Set(database.topology!.workers.map(\.directory)), "\(nodes)")
        // Every run's check reader is gone: revoked and dropped over one connection per node.
        let readers = try Connection(database.target).query("SELECT count(*) FROM pg_roles WHERE rolname LIKE 'recon\\_reader%'").scalar(Int.self)
        #expect(readers == 0)
    }

    /// A run killed mid-build on a Citus coordinator publishes nothing on any node; the next run
    /// finishes it, leaves no staging schema on any node, and gives the tables one PostgreSQL gives.
    @Test func aRunKilledMidBuildOnCitusLeavesTheWarehouseWhole() throws {
        let data = try PersistentRunTests.landing(days: 2, seed: 79)
        defer { try? FileManager.default.removeItem(atPath: data) }
        let database = try Self.twoWorkers()
        defer { database.close() }
        let prefix = PersistentRunTests.prefix()
        defer { PersistentRunTests.drop(prefix) }
        let reports = NSTemporaryDirectory() + "recon-citus-kill-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: reports) }
        func arguments(_ db: String, _ period: String) throws -> [String] {
            try PersistentRunTests.arguments("run", prefix: prefix, grain: "day", data: data, reports: reports, db: db) + ["--period", period]
        }
        let citus = database.target.conninfo
        #expect(try ReconProcess.run(try arguments(citus, "2026-10-01")).status == 0)
        let afterDayOne = try PersistentRunTests.snapshot(prefix, on: database.target)

        let process = try ReconProcess.start(try arguments(citus, "2026-10-02"),
                                             environment: ["RECON_INJECT_PAUSE": "\(TaskID.runDbtModel.rawValue):600"])
        try PersistentRunTests.waitForPause(process, in: TaskID.runDbtModel.rawValue)
        process.send(SIGKILL)
        #expect(try process.wait() == 128 + SIGKILL)
        let published = try PersistentRunTests.snapshot(prefix, on: database.target)
        #expect(!published.isEmpty && published.filter { afterDayOne[$0.key] != $0.value }.isEmpty, "a killed build published something")

        let resumed = try ReconProcess.run(try arguments(citus, "2026-10-02"))
        #expect(resumed.status == 0, "\(resumed.output)")
        #expect(resumed.output.contains("ended without finishing"), "\(resumed.output)")
        let nodes = try #require(database.topology).nodes
        for node in nodes {
            let staging = try Connection(node.target).query("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'rc\\_%'").scalar(Int.self)
            #expect(staging == 0, "the killed run's staging schemas are gone from every node")
        }
        for period in ["2026-10-01", "2026-10-02"] {
            #expect(try ReconProcess.run(try arguments(try ServerUnderTest.target().conninfo, period)).status == 0)
        }
        #expect(try PersistentRunTests.snapshot(prefix, on: database.target) == PersistentRunTests.snapshot(prefix))
    }

    /// A backfill, then a late Stripe file that restates a closed day, on a Citus coordinator and
    /// on one PostgreSQL: the same tables, and the same partitions restated with the same money.
    @Test func aBackfillAndALateFilesRestatementOnCitusEqualOnePostgreSQL() throws {
        let landing = try PersistentRunTests.LateStripeFile()
        defer { landing.remove() }
        let data = landing.data
        let database = try Self.twoWorkers()
        defer { database.close() }
        let prefix = PersistentRunTests.prefix()
        defer { PersistentRunTests.drop(prefix) }
        let reports = NSTemporaryDirectory() + "recon-citus-backfill-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: reports) }
        let targets = [database.target, try ServerUnderTest.target()]
        func run(_ command: String, _ target: ConnectionTarget, _ extra: [String]) throws -> (status: Int32, output: String) {
            try ReconProcess.run(try PersistentRunTests.arguments(command, prefix: prefix, grain: "day", data: data, reports: reports,
                                                                  db: target.conninfo) + extra)
        }
        for target in targets {
            // The 2nd's payouts came without their transactions: a finding of the backfill's days.
            let filled = try run("backfill", target, ["--from", "2026-10-01", "--to", "2026-10-03"])
            #expect(filled.status == 1, "\(filled.output)")
        }
        try landing.deliver()
        var restated: [String] = []
        for target in targets {
            let arrival = try run("run", target, ["--period", "2026-10-04"])
            #expect(arrival.status == 0, "\(arrival.output)")
            #expect(arrival.output.contains("restated \(prefix)_dws.dws_gateway_daily 2026-10-02"), "\(arrival.output)")
            restated.append(try Connection(target).query(SQL(unsafeSQL: """
                SELECT string_agg(table_name || ' ' || partition_key || ' ' || rows_before || '->' || rows_after || ' ' || coalesce(amounts, ''),
                                  E'\\n' ORDER BY table_name, partition_key)
                FROM recon_meta.restatements WHERE schema_prefix = '\(prefix)'
                """)).scalar(String.self))
        }
        #expect(!restated[0].isEmpty && restated[0] == restated[1])
        let (citus, single) = (try PersistentRunTests.snapshot(prefix, on: database.target), try PersistentRunTests.snapshot(prefix))
        #expect(!citus.isEmpty && citus == single)
    }

    /// Two audits at once on one Citus cluster (CI runs of two branches): each in its own schemas,
    /// both whole and alike; a `recon gc` meanwhile leaves both live runs alone.
    @Test func twoAuditsAtOnceOnOneClusterStayApart() throws {
        let database = try Self.twoWorkers()
        defer { database.close() }
        let root = NSTemporaryDirectory() + "recon-citus-ci-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let audits = try (0..<2).map { index in
            try ReconProcess.start(["audit", "--db", database.target.conninfo, "--generate", "--seed", "17", "--days", "2",
                                    "--orders-per-day", "60", "--anomalies", "duplicate_capture=1", "--format", "json", "-q",
                                    "--pipeline", AuditCommandTests.root + "/pipeline",
                                    "--expectations", AuditCommandTests.root + "/expectations/fund_recon.yml", "--reports", root + "/\(index)"])
        }
        // Both runs are live: their schemas exist; gc leaves them.
        let deadline = Date().addingTimeInterval(60)
        var live = 0
        while live < 2 && Date() < deadline {
            live = try Connection(database.target).query(
                "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'rc\\_%\\_dwd'").scalar(Int.self)
            usleep(100_000)
        }
        #expect(live == 2, "both runs had their own schemas at once")
        let collected = try ReconProcess.run(["gc", "--db", database.target.conninfo])
        #expect(collected.output.contains("0 dead run(s) collected"), "\(collected.output)")
        var summaries: [String] = []
        for (index, audit) in audits.enumerated() {
            #expect(try audit.wait(seconds: 240) == 1, "the duplicate capture fails its checks: \(audit.output)")
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: root + "/\(index)/results.json"))) as? [String: Any]
            let checks = (json?["checks"] as? [[String: Any]] ?? []).map { "\($0["id"] ?? "") \($0["status"] ?? "") \($0["failing_rows"] ?? "")" }
            summaries.append(checks.joined(separator: "\n"))
        }
        #expect(!summaries[0].isEmpty && summaries[0] == summaries[1])
        let left = try Connection(database.target).query("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'rc\\_%'").scalar(Int.self)
        #expect(left == 0, "each run dropped its own schemas")
    }

    /// A kept run's schemas hold shards on every worker; `recon gc` on the coordinator removes
    /// them from every node.
    @Test func gcOnTheCoordinatorCleansEveryNode() throws {
        let data = try PersistentRunTests.landing(days: 1)
        defer { try? FileManager.default.removeItem(atPath: data) }
        let database = try Self.twoWorkers()
        defer { database.close() }
        let nodes = try #require(database.topology).nodes
        func runSchemas() throws -> [Int] {
            try nodes.map { try Connection($0.target).query("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'rc\\_%'").scalar(Int.self) }
        }
        let built = try ReconProcess.run(["build", "--db", database.target.conninfo, "--data", data, "--keep-schemas", "-q",
                                          "--pipeline", AuditCommandTests.root + "/pipeline"])
        #expect(built.status == 0, "\(built.output)")
        #expect(try runSchemas() == [5, 5, 5], "the run's schemas exist on the coordinator and both workers")
        let collected = try ReconProcess.run(["gc", "--db", database.target.conninfo, "--kept"])
        #expect(collected.status == 0 && collected.output.contains("1 dead run(s) collected"), "\(collected.output)")
        #expect(try runSchemas() == [0, 0, 0])
    }
}

@Suite("The same inputs, the same pack")
struct DeterministicPackTests {
    /// Two packs of one dataset are byte for byte the same once what must differ is set aside:
    /// run ids, instants (the run's, the rows' load times) and durations.
    @Test func theSameInputsGiveTheSamePackApartFromTimestamps() throws {
        let directory = NSTemporaryDirectory() + "recon-same-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try ReconProcess.run(["generate", "--out", directory + "/data", "--start", "2026-10-01", "--days", "3",
                                      "--orders-per-day", "80", "--anomalies", "all=2", "-q"]).status == 0)
        var pages: [String] = []
        for round in 0..<2 {
            let reports = directory + "/r\(round)"
            _ = try ReconProcess.run(["report", "--month", "2026-10", "--data", directory + "/data", "--db", try ServerUnderTest.target().conninfo,
                                      "--pipeline", AuditCommandTests.root + "/pipeline", "--expectations",
                                      AuditCommandTests.root + "/expectations/fund_recon.yml", "--reports", reports, "--format", "html", "-q"])
            var page = try String(contentsOfFile: reports + "/monthly-2026-10.html", encoding: .utf8)
            for (pattern, mark) in [(#"r[0-9]{14}_[0-9a-f]{6}"#, "RUN"), (#"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|\+00)?"#, "INSTANT"),
                                    (#"[0-9]+ ms"#, "N ms")] {
                page = page.replacingOccurrences(of: pattern, with: mark, options: .regularExpression)
            }
            pages.append(page)
        }
        #expect(pages[0].count > 50_000)
        #expect(pages[0] == pages[1], "two packs of the same inputs differ")
    }
}

@Suite("Break content a controller can act on")
struct BreakContentTests {
    /// A fee mismatch names whose money it is; a truncated reseller file carries the money of the
    /// orders left without their sale; the pack's heat map is drawn per currency and its samples
    /// read "expected amount", not expected_amount.
    @Test func breaksNameTheirMerchantAndMoney() throws {
        let reports = NSTemporaryDirectory() + "recon-breaks-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: reports) }
        let result = try ReconProcess.run(["audit", "--generate", "--days", "3", "--orders-per-day", "200",
                                           "--anomalies", "reseller_truncated_file=1,fee_mismatch=2", "--db", try ServerUnderTest.target().conninfo,
                                           "--pipeline", AuditCommandTests.root + "/pipeline",
                                           "--expectations", AuditCommandTests.root + "/expectations/fund_recon.yml",
                                           "--reports", reports, "--format", "json,html", "-q"])
        #expect(result.status == 1, "\(result.output)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: reports + "/results.json"))) as? [String: Any]
        let samples = (json?["checks"] as? [[String: Any]] ?? []).flatMap { $0["sample"] as? [[String: Any]] ?? [] }
        let fees = samples.filter { $0["break_type"] as? String == "fee_mismatch" }
        #expect(!fees.isEmpty && fees.allSatisfy { $0["merchant_id"] is NSNumber }, "\(fees)")
        let truncated = try #require(samples.first { $0["break_type"] as? String == "reseller_truncated_file" })
        let expected = try #require(truncated["expected_amount"] as? NSNumber).decimalValue
        #expect(expected > 0 && (truncated["diff_amount"] as? NSNumber)?.decimalValue == -expected, "\(truncated)")
        #expect((truncated["detail"] as? String)?.contains("lack their sale") == true)
        let html = try String(contentsOfFile: reports + "/recon-report.html", encoding: .utf8)
        #expect(html.contains("Gross sales by business hour and day, USD") && html.contains("Gross sales by business hour and day, EUR"))
        #expect(html.contains("<th>expected amount</th>") && !html.contains("<th>expected_amount</th>"))
    }
}
