import Foundation
import Logging

/// One anomaly class and the checks that caught it.
package struct CoverageRow: Sendable, Codable {
    package var anomalyClass: String
    package var rule: String
    package var injected: Int
    package var caughtBy: [String]

    enum CodingKeys: String, CodingKey {
        case anomalyClass = "class"
        case rule, injected
        case caughtBy = "caught_by"
    }
}

/// For each anomaly class: a clean dataset with only that class injected, audited; which checks fail.
package enum Coverage {
    package static func run(
        classes: [AnomalyClass], base: GeneratorSpec, pipeline: String, expectations: String, database: DatabaseChoice,
        logger: Logger, progress: (String) -> Void
    ) throws -> (rows: [CoverageRow], checks: [String]) {
        var rows: [CoverageRow] = []
        var allChecks: [String] = []
        for anomaly in classes {
            var spec = base
            spec.anomalies = try AnomalySpec(parsing: "\(anomaly.rawValue)=1")
            let scratch = TemporaryFiles.path(.coverage)
            defer { TemporaryFiles.remove(scratch) }
            var request = RunRequest(expectationsPath: expectations, pipelineDirectory: pipeline, reportsDirectory: scratch)
            request.vars = ["business_timezone": base.businessTimeZone]
            request.formats = []
            request.tasks = TaskID.seed.filter { $0 != .writeReports }
            let result = try Orchestrator.run(request, kind: .ephemeral(database: database, source: .generate(spec), keepSchemas: false),
                                              interrupts: nil, logger: logger, progress: { _ in }).audit
            if allChecks.isEmpty { allChecks = result.checks.map(\.id) }
            let caught = result.checks.filter { $0.status == .fail || $0.status == .warn }.map(\.id)
            rows.append(CoverageRow(anomalyClass: anomaly.rawValue, rule: anomaly.rule, injected: 1, caughtBy: caught))
            progress("\(anomaly.rawValue): caught by \(caught.count) check(s)")
        }
        return (rows, allChecks)
    }

    /// The class x check matrix as an HTML page.
    package static func html(rows: [CoverageRow], checks: [String]) -> String {
        let e = Markup.escape
        let used = checks.filter { check in rows.contains { $0.caughtBy.contains(check) } }
        var html = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Anomaly coverage</title><style>\(HTMLReport.css)"
            + " td.x{background:#dcfce7;text-align:center} th.v{writing-mode:vertical-rl;font-size:11px}</style></head><body>"
            + "<h1>Anomaly coverage</h1><table><tr><th>Class</th><th>Rule</th><th>Caught by</th>"
            + used.map { "<th class=\"v\">\(e($0))</th>" }.joined() + "</tr>"
        for row in rows {
            html += "<tr><td>\(e(row.anomalyClass))</td><td>\(e(row.rule))</td><td class=\"n \(row.caughtBy.isEmpty ? "fail" : "")\">\(row.caughtBy.count)</td>"
                + used.map { row.caughtBy.contains($0) ? "<td class=\"x\">&#10003;</td>" : "<td></td>" }.joined() + "</tr>"
        }
        return html + "</table></body></html>\n"
    }
}
