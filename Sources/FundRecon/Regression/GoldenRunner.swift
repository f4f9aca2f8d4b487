import Foundation
import Logging

/// Rebuilds golden datasets in ephemeral schemas and compares them with their expected outputs.
package enum GoldenRunner {
    /// Builds the dataset and compares; with `update`, rewrites the expected files instead (and
    /// still reports what changed against the old ones).
    package static func run(
        _ spec: GoldenSpec, pipeline: String, expectations: String, database: DatabaseChoice, update: Bool, logger: Logger
    ) throws -> GoldenOutcome {
        var outcome = GoldenOutcome(name: spec.name)
        // The audit's tasks up to the checks, and the snapshot of every ADS table beside them.
        let scratch = TemporaryFiles.path(.golden)
        defer { TemporaryFiles.remove(scratch) }
        var request = RunRequest(expectationsPath: expectations, pipelineDirectory: pipeline, reportsDirectory: scratch)
        request.vars = spec.vars
        request.formats = []
        request.tasks = TaskID.seed.filter { $0 != .writeReports } + [.snapshotOutputs]
        let run = try Orchestrator.run(request, kind: .ephemeral(database: database, source: .generate(spec.generator), keepSchemas: false),
                                       interrupts: nil, logger: logger, progress: { _ in })
        let result = run.audit
        outcome.snapshots = run.outputs.snapshots
        outcome.checkOutcomes.rows = result.checks.map { [$0.id, $0.status.rawValue, String($0.failingRows)] }.sorted { $0.lexicographicallyPrecedes($1) }
        let expected = spec.directory + "/expected"
        for snapshot in outcome.snapshots + [outcome.checkOutcomes] {
            let path = "\(expected)/\(snapshot.table).csv"
            let old = (try? String(contentsOfFile: path, encoding: .utf8)).map { try? TableSnapshot.parse(csv: $0, table: snapshot.table) } ?? nil
            if snapshot.table == "checks" {
                let before = Dictionary((old?.rows ?? []).map { ($0[0], "\($0[1])/\($0[2])") }, uniquingKeysWith: { a, _ in a })
                let after = Dictionary(snapshot.rows.map { ($0[0], "\($0[1])/\($0[2])") }, uniquingKeysWith: { a, _ in a })
                for id in Set(before.keys).union(after.keys).sorted() where before[id] != after[id] {
                    outcome.checks.append((id, before[id] ?? "(absent)", after[id] ?? "(absent)"))
                }
            } else {
                let baseline = old ?? TableSnapshot(table: snapshot.table, header: snapshot.header, rows: [])
                outcome.tables.append((snapshot.table, SnapshotDiff.diff(expected: baseline, actual: snapshot)))
            }
            if update {
                try FileManager.default.createDirectory(atPath: expected, withIntermediateDirectories: true)
                try Data(snapshot.csv.utf8).write(to: URL(fileURLWithPath: path))
            }
        }
        return outcome
    }

    /// JUnit for golden outcomes: one test case per golden table and per check outcome.
    package static func junit(_ outcomes: [GoldenOutcome]) -> String {
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"golden\">\n"
        for outcome in outcomes {
            let failures = outcome.tables.filter { !$0.differences.isEmpty }.count + outcome.checks.count
            let cases = outcome.tables.count + outcome.checkOutcomes.rows.count
            xml += "  <testsuite name=\"golden.\(Markup.escape(outcome.name))\" tests=\"\(cases)\" failures=\"\(failures)\" errors=\"0\">\n"
            for (table, differences) in outcome.tables {
                xml += "    <testcase classname=\"golden.\(Markup.escape(outcome.name)).table\" name=\"\(table)\""
                if differences.isEmpty { xml += "/>\n"; continue }
                let text = differences.prefix(200).map(\.description).joined(separator: "\n")
                xml += ">\n      <failure message=\"\(differences.count) row difference(s)\" type=\"golden\">\(Markup.escape(text))</failure>\n    </testcase>\n"
            }
            let changed = Dictionary(outcome.checks.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            for row in outcome.checkOutcomes.rows {
                xml += "    <testcase classname=\"golden.\(Markup.escape(outcome.name)).check\" name=\"\(Markup.escape(row[0]))\""
                if let change = changed[row[0]] {
                    xml += ">\n      <failure message=\"expected \(Markup.escape(change.expected)), got \(Markup.escape(change.actual))\" type=\"golden\"/>\n    </testcase>\n"
                } else {
                    xml += "/>\n"
                }
            }
            xml += "  </testsuite>\n"
        }
        return xml + "</testsuites>\n"
    }

    /// A plain HTML page of the golden comparison.
    package static func html(_ outcomes: [GoldenOutcome]) -> String {
        let e = Markup.escape
        var html = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Golden regression</title><style>\(HTMLReport.css)</style></head><body><h1>Golden regression</h1>"
        for outcome in outcomes {
            html += "<h2>\(e(outcome.name)): \(outcome.isEqual ? "equal" : "DIFFERENT")</h2><table><tr><th>Table</th><th>Differences</th></tr>"
            for (table, differences) in outcome.tables {
                html += "<tr><td>\(e(table))</td><td class=\"\(differences.isEmpty ? "" : "fail")\">\(differences.count)</td></tr>"
            }
            html += "</table>"
            for (table, differences) in outcome.tables where !differences.isEmpty {
                html += "<h3>\(e(table))</h3><pre>\(e(differences.prefix(500).map(\.description).joined(separator: "\n")))</pre>"
            }
            if !outcome.checks.isEmpty {
                html += "<h3>Check outcomes</h3><table><tr><th>Check</th><th>Expected</th><th>Actual</th></tr>"
                    + outcome.checks.map { "<tr><td>\(e($0.id))</td><td>\(e($0.expected))</td><td>\(e($0.actual))</td></tr>" }.joined() + "</table>"
            }
        }
        return html + "</body></html>\n"
    }
}
