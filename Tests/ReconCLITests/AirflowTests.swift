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
            .write(toFile: model, atomically: true, encoding: .utf8)
        let broken = try check("parse", directory)
        #expect(broken.status == 1)
        #expect(broken.output.contains("DAG run_dbt_model: schedule '@hourly', expected '@daily'"))
        #expect(broken.output.contains("DAG run_dbt_model: dependencies"))
    }

    @Test(.enabled(if: AirflowTests.airflowInstalled, "apache-airflow is not installed in .venv-airflow (make airflow)"))
    func airflowsDagBagLoadsThemWithoutImportErrors() throws {
        let directory = try write()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let loaded = try check("dagbag", directory, python: Self.airflowPython)
        #expect(loaded.status == 0, "\(loaded.output)")
        #expect(loaded.output.contains("dagbag: 6 DAGs as expected"))
    }
}
