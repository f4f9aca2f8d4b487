import Foundation
import Logging
import Postgres
import Yams

/// A golden dataset: `golden/<name>/spec.yml` (generator arguments and vars) and the expected
/// outputs in `golden/<name>/expected/`: every ADS table as sorted CSV, and `checks.csv`.
public struct GoldenSpec: Sendable {
    public var name: String
    public var directory: String
    public var generator: GeneratorSpec
    public var vars: [String: String]

    public static func load(name: String, root: String) throws -> GoldenSpec {
        let directory = root + "/" + name
        let file = directory + "/spec.yml"
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw InputError(file: file, message: "no golden dataset named \(name) (its spec.yml is missing)")
        }
        guard let node = try Yams.compose(yaml: text), let generator = node["generator"]?.mapping else {
            throw InputError(file: file, message: "expected a 'generator' mapping")
        }
        func value(_ key: String) -> String? { generator[Node(key)]?.string }
        guard let start = value("start").flatMap(CalendarDate.init), let days = value("days").flatMap(Int.init),
              let perDay = value("orders_per_day").flatMap(Int.init) else {
            throw InputError(file: file, message: "generator needs start, days and orders_per_day")
        }
        let spec = GeneratorSpec(
            seed: value("seed").flatMap(UInt64.init) ?? 42, start: start, days: days, ordersPerDay: perDay,
            merchants: value("merchants").flatMap(Int.init) ?? 20, resellers: value("resellers").flatMap(Int.init) ?? 4,
            anomalies: try AnomalySpec(parsing: value("anomalies") ?? "none"),
            businessTimeZone: value("business_timezone") ?? "UTC")
        var vars: [String: String] = [:]
        for (key, entry) in node["vars"]?.mapping ?? [:] {
            if let name = key.string, let text = entry.string { vars[name] = text }
        }
        return GoldenSpec(name: name, directory: directory, generator: spec, vars: vars)
    }

    /// Every golden dataset under `root`.
    public static func names(root: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .filter { FileManager.default.fileExists(atPath: "\(root)/\($0)/spec.yml") }.sorted()
    }
}

/// What a golden comparison found.
public struct GoldenOutcome: Sendable {
    public var name: String
    /// Table -> row differences (empty when equal).
    public var tables: [(table: String, differences: [RowDifference])] = []
    /// Checks whose outcome differs: id, expected "status/failing_rows", actual.
    public var checks: [(id: String, expected: String, actual: String)] = []
    public var snapshots: [TableSnapshot] = []
    public var checkOutcomes: TableSnapshot = TableSnapshot(table: "checks", header: ["id", "status", "failing_rows"], rows: [])

    public var isEqual: Bool { tables.allSatisfy { $0.differences.isEmpty } && checks.isEmpty }
}

/// Rebuilds golden datasets in ephemeral schemas and compares them with their expected outputs.
public enum GoldenRunner {
    public static let tables = ["ads_gateway_recon", "ads_merchant_balance_daily", "ads_monthly_statement", "ads_recon_breaks",
                                "ads_recon_summary_daily"]

    /// Builds the dataset and compares; with `update`, rewrites the expected files instead (and
    /// still reports what changed against the old ones).
    public static func run(
        _ spec: GoldenSpec, pipeline: String, expectations: String, database: DatabaseChoice, update: Bool, logger: Logger
    ) throws -> GoldenOutcome {
        var outcome = GoldenOutcome(name: spec.name)
        var options = AuditOptions(dataDirectory: nil, generate: spec.generator, expectationsPath: expectations,
                                   reportsDirectory: NSTemporaryDirectory() + "recon-golden-\(UUID().uuidString)", pipelineDirectory: pipeline)
        options.vars = spec.vars
        options.formats = []
        options.database = database
        var snapshots: [TableSnapshot] = []
        let result = try AuditRunner.run(options, interrupts: nil, logger: logger, progress: { _ in }) { run in
            for table in tables {
                snapshots.append(try TableSnapshot.read(table: table, schema: run.schemas.name(.ads), connection: run.connection))
            }
        }
        outcome.snapshots = snapshots
        outcome.checkOutcomes.rows = result.checks.map { [$0.id, $0.status.rawValue, String($0.failingRows)] }.sorted { $0.lexicographicallyPrecedes($1) }
        let expected = spec.directory + "/expected"
        for snapshot in snapshots + [outcome.checkOutcomes] {
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
    public static func junit(_ outcomes: [GoldenOutcome]) -> String {
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"golden\">\n"
        for outcome in outcomes {
            let failures = outcome.tables.filter { !$0.differences.isEmpty }.count + outcome.checks.count
            let cases = outcome.tables.count + outcome.checkOutcomes.rows.count
            xml += "  <testsuite name=\"golden.\(ResultWriters.escape(outcome.name))\" tests=\"\(cases)\" failures=\"\(failures)\" errors=\"0\">\n"
            for (table, differences) in outcome.tables {
                xml += "    <testcase classname=\"golden.\(ResultWriters.escape(outcome.name)).table\" name=\"\(table)\""
                if differences.isEmpty { xml += "/>\n"; continue }
                let text = differences.prefix(200).map(\.description).joined(separator: "\n")
                xml += ">\n      <failure message=\"\(differences.count) row difference(s)\" type=\"golden\">\(ResultWriters.escape(text))</failure>\n    </testcase>\n"
            }
            let changed = Dictionary(outcome.checks.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            for row in outcome.checkOutcomes.rows {
                xml += "    <testcase classname=\"golden.\(ResultWriters.escape(outcome.name)).check\" name=\"\(ResultWriters.escape(row[0]))\""
                if let change = changed[row[0]] {
                    xml += ">\n      <failure message=\"expected \(ResultWriters.escape(change.expected)), got \(ResultWriters.escape(change.actual))\" type=\"golden\"/>\n    </testcase>\n"
                } else {
                    xml += "/>\n"
                }
            }
            xml += "  </testsuite>\n"
        }
        return xml + "</testsuites>\n"
    }

    /// A plain HTML page of the golden comparison.
    public static func html(_ outcomes: [GoldenOutcome]) -> String {
        let e = ResultWriters.escape
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

/// One anomaly class and the checks that caught it.
public struct CoverageRow: Sendable, Codable {
    public var anomalyClass: String
    public var rule: String
    public var injected: Int
    public var caughtBy: [String]

    enum CodingKeys: String, CodingKey {
        case anomalyClass = "class"
        case rule, injected
        case caughtBy = "caught_by"
    }
}

/// For each anomaly class: a clean dataset with only that class injected, audited; which checks fail.
public enum Coverage {
    public static func run(
        classes: [AnomalyClass], base: GeneratorSpec, pipeline: String, expectations: String, database: DatabaseChoice,
        logger: Logger, progress: (String) -> Void
    ) throws -> (rows: [CoverageRow], checks: [String]) {
        var rows: [CoverageRow] = []
        var allChecks: [String] = []
        for anomaly in classes {
            var spec = base
            spec.anomalies = try AnomalySpec(parsing: "\(anomaly.rawValue)=1")
            var options = AuditOptions(dataDirectory: nil, generate: spec, expectationsPath: expectations,
                                       reportsDirectory: NSTemporaryDirectory() + "recon-coverage", pipelineDirectory: pipeline)
            options.vars = ["business_timezone": base.businessTimeZone]
            options.formats = []
            options.database = database
            let result = try AuditRunner.run(options, interrupts: nil, logger: logger, progress: { _ in })
            if allChecks.isEmpty { allChecks = result.checks.map(\.id) }
            let caught = result.checks.filter { $0.status == .fail || $0.status == .warn }.map(\.id)
            rows.append(CoverageRow(anomalyClass: anomaly.rawValue, rule: anomaly.rule, injected: 1, caughtBy: caught))
            progress("\(anomaly.rawValue): caught by \(caught.count) check(s)")
        }
        return (rows, allChecks)
    }

    /// The class x check matrix as an HTML page.
    public static func html(rows: [CoverageRow], checks: [String]) -> String {
        let e = ResultWriters.escape
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
