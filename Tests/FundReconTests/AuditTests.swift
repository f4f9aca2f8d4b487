import Foundation
import Postgres
import Testing

@testable import FundRecon

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

func audit(_ spec: GeneratorSpec) throws -> AuditResult {
    let reports = NSTemporaryDirectory() + "recon-audit-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: reports) }
    var request = RunRequest(expectationsPath: repositoryRoot + "/expectations/fund_recon.yml", pipelineDirectory: repositoryRoot + "/pipeline",
                             reportsDirectory: reports)
    request.vars = ["business_timezone": spec.businessTimeZone]
    let result = try Orchestrator.run(request, kind: .ephemeral(database: .server(try SharedCluster.target()), source: .generate(spec),
                                                                keepSchemas: false), interrupts: nil, logger: quietLogger) { _ in }.audit
    let json = try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: reports + "/results.json")))
    let object = try #require(json as? [String: Any])
    #expect(Set(object.keys).isSuperset(of: ["run_id", "started_at", "finished_at", "database", "summary", "checks", "stages"]))
    let first = try #require((object["checks"] as? [[String: Any]])?.first)
    #expect(Set(first.keys).isSuperset(of: ["id", "type", "table", "layer", "severity", "status", "failing_rows", "observed",
                                            "sample", "sql", "duration_ms"]))
    return result
}

@Suite("fund_recon.yml: silent on clean data, every anomaly caught with its keys")
struct AuditTests {
    @Test func cleanDataPassesEveryCheck() throws {
        let result = try audit(GeneratorSpec(seed: 31, start: october, days: 12, ordersPerDay: 80, businessTimeZone: "Europe/Berlin"))
        #expect(result.summary.checks >= 40)
        let problems = result.checks.filter { $0.status != .pass }.map { "\($0.id): \($0.status) \($0.message ?? $0.outcome)" }
        #expect(problems.isEmpty, "\(problems)")
        #expect(result.exitCode(failOn: .warn) == 0)
        // The run is the seed's DAG: every task once, each succeeded on its first attempt with its rows.
        #expect(result.stages.map(\.name) == ["database"] + TaskID.seed.map(\.rawValue))
        #expect(result.tasks.map(\.task) == TaskID.seed)
        #expect(result.tasks.allSatisfy { $0.status == .succeeded && $0.attempts == 1 })
        #expect(result.tasks.first { $0.task == .importMainData }!.rows > 12 * 80)
        #expect(result.tasks.first { $0.task == .runChecks }!.rows == result.summary.checks)
    }

    @Test func everyAnomalyClassFailsACheckThatNamesItsKeys() throws {
        let spec = GeneratorSpec(seed: 37, start: october, days: 16, ordersPerDay: 90, anomalies: try AnomalySpec(parsing: "all=1"),
                                 businessTimeZone: "Europe/Berlin")
        let directory = NSTemporaryDirectory() + "recon-audit-data-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let report = try DatasetGenerator.generate(spec, to: directory, logger: quietLogger)
        #expect(report.unplaced.isEmpty)
        var withData = spec
        withData.anomalies = .none
        let reports = NSTemporaryDirectory() + "recon-audit-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: reports) }
        var request = RunRequest(expectationsPath: repositoryRoot + "/expectations/fund_recon.yml",
                                 pipelineDirectory: repositoryRoot + "/pipeline", reportsDirectory: reports)
        request.vars = ["business_timezone": "Europe/Berlin"]
        let result = try Orchestrator.run(request, kind: .ephemeral(database: .server(try SharedCluster.target()), source: .directory(directory),
                                                                    keepSchemas: false), interrupts: nil, logger: quietLogger) { _ in }.audit
        #expect(result.exitCode(failOn: .error) == 1)
        #expect(result.summary.error == 0, "\(result.checks.filter { $0.status == .error }.map { "\($0.id): \($0.message ?? "")" })")
        let failing = result.checks.filter { $0.status == .fail }
        for anomaly in report.anomalies {
            let key = breakKey(anomaly)
            let catching = failing.filter { check in check.sample.contains { row in row.values.contains { $0.text == key } } }
            #expect(!catching.isEmpty, "\(anomaly.anomalyClass) \(key) is named by no failing check")
        }
    }
}
