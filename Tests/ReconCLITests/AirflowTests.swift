import Foundation
import Testing

@testable import FundRecon

/// `recon dag --airflow DIR`: the files an Airflow shop drops into its dags folder.
@Suite("Airflow DAG files")
struct AirflowTests {
    static let root = AuditCommandTests.root
    /// The virtual environment `make airflow` makes (apache-airflow installed, when PyPI allowed it).
    static let airflowPython = root + "/.venv-airflow/bin/python"
    static var airflowInstalled: Bool {
        FileManager.default.isExecutableFile(atPath: airflowPython)
            && ((try? ProcessRunner.run(airflowPython, ["-c", "import airflow"]).status) == 0)
    }

    func write() throws -> String {
        let directory = NSTemporaryDirectory() + "recon-dags-\(UUID().uuidString)"
        let result = try ReconProcess.run(["dag", "--airflow", directory, "--schema-prefix", "finance", "--data", "/srv/landing",
                                           "--pipeline", Self.root + "/pipeline", "--var", "business_timezone=Europe/Berlin"])
        #expect(result.status == 0, "\(result.output)")
        return directory
    }

    func check(_ mode: String, _ directory: String, python: String = "/usr/bin/python3") throws -> (status: Int32, output: String) {
        let outcome = try ProcessRunner.run(python, [Self.root + "/scripts/airflow_dags.py", mode, directory])
        return (outcome.status, outcome.output)
    }

    @Test func theFilesParseWithTheSeedsIdsSchedulesAndDependencies() throws {
        let directory = try write()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let parsed = try check("parse", directory)
        #expect(parsed.status == 0, "\(parsed.output)")
        let hourly = try String(contentsOfFile: directory + "/import_main_data.py", encoding: .utf8)
        #expect(hourly.contains("--grain hour --period \\\"{{ data_interval_start.in_timezone('Europe/Berlin').strftime('%Y-%m-%dT%H') }}\\\""))
        #expect(hourly.contains("--data '/srv/landing'"))
        #expect(hourly.contains("tz=\"Europe/Berlin\""))

        // The checker is not a rubber stamp: a lost dependency and a wrong schedule are named.
        let model = directory + "/run_dbt_model.py"
        let text = try String(contentsOfFile: model, encoding: .utf8)
        try text.replacingOccurrences(of: "    run_dbt_model >> run_checks\n", with: "")
            .replacingOccurrences(of: "schedule=\"@daily\"", with: "schedule=\"@hourly\"")
            .replacingOccurrences(of: "retries=0,", with: "")
            .write(toFile: model, atomically: true, encoding: .utf8)
        let broken = try check("parse", directory)
        #expect(broken.status == 1)
        #expect(broken.output.contains("DAG run_dbt_model: schedule '@hourly', expected '@daily'"))
        #expect(broken.output.contains("DAG run_dbt_model: dependencies"))
        #expect(broken.output.contains("DAG run_dbt_model task run_checks: checks and retries (None, expected 0)"))
    }

    @Test(.enabled(if: AirflowTests.airflowInstalled, "apache-airflow is not installed in .venv-airflow (make airflow)"))
    func airflowsDagBagLoadsThemWithoutImportErrors() throws {
        let directory = try write()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let loaded = try check("dagbag", directory, python: Self.airflowPython)
        #expect(loaded.status == 0, "\(loaded.output)")
        #expect(loaded.output.contains("dagbag: 6 DAGs as expected"))
    }

    /// Airflow itself executes the DAGs against a persistent warehouse (`airflow dags test`, SQLite
    /// metadata): the reset, three hours of both imports, the day's init and model runs, every task
    /// succeeding (the model run's sensors find the 23:00 imports); the warehouse equals the same
    /// periods and tasks run by `recon run` directly. With a check that fails, the `run_checks`
    /// task is failed at its first try (no retries: a finding, not a fault) and its build stays a success.
    @Test(.enabled(if: AirflowTests.airflowInstalled, "apache-airflow is not installed in .venv-airflow (make airflow)"))
    func airflowExecutesTheHourlyAndDailyDAGsAndAFailingCheckFailsItsTask() throws {
        let work = NSTemporaryDirectory() + "recon-airflow-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: work) }
        let data = work + "/landing", dags = work + "/dags", home = work + "/airflow"
        let generated = try ReconProcess.run(["generate", "--out", data, "--seed", "91", "--start", "2026-10-01", "--days", "2",
                                              "--orders-per-day", "70", "--quiet"])
        #expect(generated.status == 0, "\(generated.output)")
        let (viaAirflow, direct) = (PersistentRunTests.prefix(), PersistentRunTests.prefix())
        defer { PersistentRunTests.drop(viaAirflow); PersistentRunTests.drop(direct) }
        let db = try ServerUnderTest.target().conninfo
        func writeDAGs(expectations: String) throws {
            let written = try ReconProcess.run(["dag", "--airflow", dags, "--schema-prefix", viaAirflow, "--data", data, "--reports", work + "/reports",
                                                "--pipeline", Self.root + "/pipeline", "--expectations", expectations, "--recon", ReconProcess.binary])
            #expect(written.status == 0, "\(written.output)")
        }
        try writeDAGs(expectations: Self.root + "/expectations/fund_recon.yml")
        let environment = ProcessInfo.processInfo.environment.merging([
            "AIRFLOW_HOME": home, "AIRFLOW__CORE__DAGS_FOLDER": dags, "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "RECON_DATABASE_URL": db,
        ]) { $1 }
        let airflow = Self.root + "/.venv-airflow/bin/airflow"
        func airflowRun(_ arguments: [String]) throws -> ProcessRunner.Outcome {
            try ProcessRunner.run(airflow, arguments, environment: environment)
        }
        #expect(try airflowRun(["db", "migrate"]).status == 0)
        var runs = [("initialize_etl_environment", "2026-10-01T00:00:00+00:00")]
        for hour in ["21", "22", "23"] {
            runs += [("import_main_data", "2026-10-01T\(hour):00:00+00:00"), ("import_reseller_data", "2026-10-01T\(hour):00:00+00:00")]
        }
        runs += [("run_dbt_init_tasks", "2026-10-01T00:00:00+00:00"), ("run_dbt_model", "2026-10-01T00:00:00+00:00")]
        for (dag, logicalDate) in runs {
            let outcome = try airflowRun(["dags", "test", dag, logicalDate])
            #expect(outcome.status == 0, "\(dag) \(logicalDate): \(outcome.output.suffix(3000))")
        }
        func states(_ dag: String? = nil) throws -> [String] {
            let query = "SELECT dag_id || '.' || task_id || '=' || state || '#' || try_number FROM task_instance"
                + (dag.map { " WHERE dag_id = '\($0)'" } ?? "") + " ORDER BY 1"
            let outcome = try ProcessRunner.run("/usr/bin/python3", ["-c", "import sqlite3, sys; [print(r[0]) for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2])]",
                                                                   home + "/airflow.db", query])
            return outcome.output.split(separator: "\n").map(String.init)
        }
        let all = try states()
        #expect(all.count == 13 && all.allSatisfy { $0.hasSuffix("=success#1") }, "\(all)")
        #expect(all.contains("run_dbt_model.wait_for_import_main_data=success#1"))

        // The same periods and tasks through recon run directly.
        func recon(_ grain: String, _ period: String, _ tasks: String) throws {
            let outcome = try ReconProcess.run(["run", "--db", db, "--schema-prefix", direct, "--grain", grain, "--period", period, "--tasks", tasks,
                                                "--data", data, "--pipeline", Self.root + "/pipeline", "--expectations",
                                                Self.root + "/expectations/fund_recon.yml", "--reports", work + "/direct", "--quiet"])
            #expect(outcome.status == 0, "\(grain) \(period) \(tasks): \(outcome.output)")
        }
        try recon("day", "2026-10-01", "initialize_etl_environment")
        for hour in ["21", "22", "23"] {
            try recon("hour", "2026-10-01T\(hour)", "import_main_data")
            try recon("hour", "2026-10-01T\(hour)", "import_reseller_data")
        }
        try recon("day", "2026-10-01", "run_dbt_init_tasks")
        try recon("day", "2026-10-01", "run_dbt_model")
        try recon("day", "2026-10-01", "run_checks,write_reports")
        let (scheduled, ran) = (try PersistentRunTests.snapshot(viaAirflow), try PersistentRunTests.snapshot(direct))
        #expect(!scheduled.isEmpty && scheduled.values.contains { !$0.hasPrefix("0 ") })
        #expect(scheduled == ran)

        // A check that fails: its task is failed at the first try, the build before it succeeded.
        let failing = work + "/failing.yml"
        try """
            version: 1
            checks:
              - {id: never_holds, type: expression, table: ads_recon_summary_daily, expression: "matched_count < 0"}
            """.write(toFile: failing, atomically: true, encoding: .utf8)
        try writeDAGs(expectations: failing)
        let failed = try airflowRun(["dags", "test", "run_dbt_model", "2026-10-01T00:00:00+00:00"])
        #expect(failed.status != 0)
        let model = try states("run_dbt_model")
        #expect(model.contains("run_dbt_model.run_checks=failed#1"), "\(model)")
        #expect(model.contains("run_dbt_model.run_dbt_model=success#1"), "\(model)")
    }
}
