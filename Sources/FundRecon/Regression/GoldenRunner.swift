import Foundation
import Logging
import Postgres

/// Rebuilds golden datasets in ephemeral schemas and compares them with their expected outputs.
package enum GoldenRunner {
    /// Builds the dataset and compares each ADS table with its expected file through the diff
    /// engine (the file loaded beside the run's table); with `update`, rewrites the expected files
    /// instead (and still reports what changed against the old ones).
    package static func run(
        _ spec: GoldenSpec, pipeline: String, expectations: String, database: DatabaseChoice, update: Bool, logger: Logger
    ) throws -> GoldenOutcome {
        var outcome = GoldenOutcome(name: spec.name)
        let provided = try ProvidedDatabase(database, logger: logger)
        defer { provided.close() }
        // The audit's tasks up to the checks, and the snapshot of every ADS table beside them; the
        // schemas stay until the comparison is done.
        var request = RunRequest(expectationsPath: expectations, pipelineDirectory: pipeline, reportsDirectory: "")
        let runID = RunID.generate()
        request.runID = runID
        request.handsOverSchemas = true
        request.vars = spec.vars
        request.formats = []
        request.tasks = TaskID.seed.filter { $0 != .writeReports } + [.snapshotOutputs]
        let connection = try provided.connect()
        defer { try? RunSession.drop(schemas: RunSchemas(runID: runID).all, on: connection) }
        let run = try Orchestrator.run(request, kind: .ephemeral(database: .server(provided.target), source: .generate(spec.generator),
                                                                 keepSchemas: false),
                                       interrupts: nil, logger: logger, progress: { _ in })
        let result = run.audit
        outcome.snapshots = run.outputs.snapshots
        outcome.checkOutcomes.rows = result.checks.map { [$0.id, $0.status.rawValue, String($0.failingRows)] }.sorted { $0.lexicographicallyPrecedes($1) }
        let project = try PipelineProject.load(directory: pipeline)
        let parsed = try? ExpectationsParser.parse(file: expectations)
        let actualSchema = RunSchemas(runID: runID).name(.ads)
        let expected = spec.directory + "/expected"
        let engine = TableDiff(connection: connection)
        for snapshot in outcome.snapshots {
            let path = "\(expected)/\(snapshot.table).csv"
            let actual = TableDiff.Relation(schema: actualSchema, table: snapshot.table)
            var diff = ModelDiff(model: snapshot.table, layer: Layer.ads.rawValue, status: .compared)
            if let stored = try loadExpected(path, beside: actual, on: connection), let model = project.models.first(where: { $0.name == snapshot.table }) {
                // The stored file has no index: its key is checked.
                var key = PipelineDiff.key(of: model, base: nil, expectations: [parsed])
                key.enforced = false
                try engine.compare(base: stored, head: actual, key: key,
                                   partition: model.config.partitionBy ?? "biz_date", closedThrough: nil, into: &diff)
            } else {
                diff.status = .added
                diff.rowsHead = snapshot.rows.count
            }
            outcome.tables.append(diff)
            if update {
                try FileManager.default.createDirectory(atPath: expected, withIntermediateDirectories: true)
                try Data(snapshot.csv.utf8).write(to: URL(fileURLWithPath: path))
            }
        }
        let checksPath = "\(expected)/checks.csv"
        let old = (try? String(contentsOfFile: checksPath, encoding: .utf8)).flatMap { try? TableSnapshot.parse(csv: $0, table: "checks") }
        let before = Dictionary((old?.rows ?? []).map { ($0[0], $0) }, uniquingKeysWith: { a, _ in a })
        let after = Dictionary(outcome.checkOutcomes.rows.map { ($0[0], $0) }, uniquingKeysWith: { a, _ in a })
        for id in Set(before.keys).union(after.keys).sorted() where before[id] != after[id] {
            outcome.checks.append(CheckChange(id: id, base: before[id]?[1] ?? "absent", head: after[id]?[1] ?? "absent",
                                              baseFailingRows: Int(before[id]?[2] ?? "") ?? 0, headFailingRows: Int(after[id]?[2] ?? "") ?? 0))
        }
        if update {
            try FileManager.default.createDirectory(atPath: expected, withIntermediateDirectories: true)
            try Data(outcome.checkOutcomes.csv.utf8).write(to: URL(fileURLWithPath: checksPath))
        }
        return outcome
    }

    /// Loads an expected CSV into a temporary table shaped like `actual` (its columns typed as the
    /// run's; a column the run no longer has is text), so the diff engine compares it as a base.
    /// Nil when there is no such file.
    static func loadExpected(_ path: String, beside actual: TableDiff.Relation, on connection: Connection) throws -> TableDiff.Relation? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let header = try TableSnapshot.parse(csv: text.prefix { $0 != "\n" } + "\n", table: actual.table).header
        let types = Dictionary(try TableDiff(connection: connection).columns(of: actual).map { ($0.name, $0.type) }, uniquingKeysWith: { a, _ in a })
        let name = "golden_" + actual.table
        let columns = header.map { "\(identifier: $0) \(unsafeSQL: types[$0] ?? "text")" as SQL }.joined(separator: ", ")
        try connection.execute("DROP TABLE IF EXISTS pg_temp.\(identifier: name)")
        try connection.execute("CREATE TEMP TABLE \(identifier: name) (\(columns))")
        let list = header.map { "\(identifier: $0)" as SQL }.joined(separator: ", ")
        try connection.transaction { connection in
            // The snapshot was written in UTC; its timestamps are read back in UTC.
            try connection.execute("SELECT set_config('timezone', 'UTC', true)")
            _ = try connection.copyIn("COPY pg_temp.\(identifier: name) (\(list)) FROM STDIN WITH (FORMAT csv, HEADER)") { writer in
                try writer.write(Array(text.utf8))
            }
        }
        return TableDiff.Relation(schema: "pg_temp", table: name)
    }

    /// JUnit for golden outcomes: one test case per golden table and per check outcome.
    package static func junit(_ outcomes: [GoldenOutcome]) -> String {
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"golden\">\n"
        for outcome in outcomes {
            let failures = outcome.tables.filter(\.isChanged).count + outcome.checks.count
            let cases = outcome.tables.count + outcome.checkOutcomes.rows.count
            xml += "  <testsuite name=\"golden.\(Markup.escape(outcome.name))\" tests=\"\(cases)\" failures=\"\(failures)\" errors=\"0\">\n"
            for table in outcome.tables {
                xml += "    <testcase classname=\"golden.\(Markup.escape(outcome.name)).table\" name=\"\(table.model)\""
                if !table.isChanged { xml += "/>\n"; continue }
                let text = ([table.summary] + table.money.filter { $0.dimension == "total" }.map { "\($0.column) \($0.currency) \(signed($0.delta))" }
                    + table.samples.map(\.description)).joined(separator: "\n")
                xml += ">\n      <failure message=\"\(Markup.escape(table.summary))\" type=\"golden\">\(Markup.escape(text))</failure>\n    </testcase>\n"
            }
            let changed = Dictionary(outcome.checks.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            for row in outcome.checkOutcomes.rows {
                xml += "    <testcase classname=\"golden.\(Markup.escape(outcome.name)).check\" name=\"\(Markup.escape(row[0]))\""
                if let change = changed[row[0]] {
                    xml += ">\n      <failure message=\"\(Markup.escape(expectedGot(change)))\" type=\"golden\"/>\n    </testcase>\n"
                } else {
                    xml += "/>\n"
                }
            }
            xml += "  </testsuite>\n"
        }
        return xml + "</testsuites>\n"
    }

    /// `expected pass/0, got fail/3`.
    package static func expectedGot(_ change: CheckChange) -> String {
        "expected \(change.base)/\(change.baseFailingRows), got \(change.head)/\(change.headFailingRows)"
    }

    /// The golden comparison as a page: the tables' row and money views are `recon diff`'s.
    package static func html(_ outcomes: [GoldenOutcome]) -> String {
        let e = Markup.escape
        var html = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Golden regression</title><style>\(HTMLReport.css)\(DiffReports.css)</style></head><body><h1>Golden regression</h1>"
        for outcome in outcomes {
            html += "<h2>\(e(outcome.name)): \(outcome.isEqual ? "equal" : "DIFFERENT")</h2><table><tr><th>Table</th><th>Difference</th></tr>"
            for table in outcome.tables {
                html += "<tr><td>\(e(table.model))</td><td class=\"\(table.isChanged ? "fail" : "")\">\(e(table.summary))</td></tr>"
            }
            html += "</table>"
            for table in outcome.tables where table.isChanged { html += DiffReports.section(table) }
            if !outcome.checks.isEmpty {
                html += "<h3>Check outcomes</h3><table><tr><th>Check</th><th>Expected</th><th>Actual</th></tr>"
                    + outcome.checks.map { "<tr><td>\(e($0.id))</td><td>\(e($0.base))/\($0.baseFailingRows)</td><td>\(e($0.head))/\($0.headFailingRows)</td></tr>" }.joined()
                    + "</table>"
            }
        }
        return html + "</body></html>\n"
    }
}
