import Foundation
import Logging
import Postgres

/// What one `recon audit` does and where (DESIGN.md "One audit run").
public struct AuditOptions: Sendable {
    /// A dataset directory, or nil to generate one from `generate`.
    public var dataDirectory: String?
    public var generate: GeneratorSpec?
    public var expectationsPath: String
    public var reportsDirectory: String
    public var pipelineDirectory: String
    public var vars: [String: String] = [:]
    public var keepSchemas = false
    public var tags: Set<String> = []
    public var checkTimeoutMilliseconds = 60_000
    public var asOf: Date?
    public var database: DatabaseChoice = .embedded
    /// Which report files to write.
    public var formats: Set<ReportFormat> = Set(ReportFormat.allCases)
    /// For the monthly finance pack: the month (YYYY-MM) the reports cover.
    public var month: String?

    public init(dataDirectory: String?, generate: GeneratorSpec?, expectationsPath: String, reportsDirectory: String,
                pipelineDirectory: String) {
        self.dataDirectory = dataDirectory
        self.generate = generate
        self.expectationsPath = expectationsPath
        self.reportsDirectory = reportsDirectory
        self.pipelineDirectory = pipelineDirectory
    }
}

/// Runs the stages of an audit and writes its reports. Bad files throw `ExpectationsError`,
/// `PipelineError` or `InputError` before the database is touched where possible; runtime
/// failures throw `ClusterError`, `ModelFailure` or `PostgresError`.
public enum AuditRunner {
    public static func run(
        _ options: AuditOptions, interrupts: Interrupts?, logger: Logger, progress: @escaping (String) -> Void,
        inspect: ((WarehouseRun) throws -> Void)? = nil
    ) throws -> AuditResult {
        let started = Date()
        // The files first: a typo costs no database.
        let expectations = try ExpectationsParser.parse(file: options.expectationsPath)
        let project = try PipelineProject.load(directory: options.pipelineDirectory)
        _ = try project.orderedModels()
        var stages: [StageTiming] = []
        func stage<T>(_ name: String, _ body: () throws -> (T, Int)) rethrows -> T {
            let clock = ContinuousClock.now
            let (value, rows) = try body()
            let timing = StageTiming(name: name, rows: rows, durationMS: milliseconds(since: clock))
            stages.append(timing)
            progress("\(name): \(rows) rows in \(timing.durationMS) ms")
            return value
        }
        let provided = try stage("database") { (try ProvidedDatabase(options.database, interrupts: interrupts, logger: logger), 0) }
        defer { provided.close() }
        let run = try WarehouseRun(on: provided.target, keepSchemas: options.keepSchemas, interrupts: interrupts, logger: logger)
        defer { try? run.close() }
        progress("run \(run.runID) on \(provided.displayName)")

        let dataDirectory = Shared(options.dataDirectory)
        let generatedDirectory = Shared<String?>(nil)
        defer {
            if let directory = generatedDirectory.value, !options.keepSchemas { try? FileManager.default.removeItem(atPath: directory) }
        }
        let runner = try PipelineRunner(project: project, schemas: run.schemas, overrides: options.vars)
        let schemas = run.schemas
        let zone = options.vars["business_timezone"] ?? project.vars["business_timezone"] ?? "UTC"
        let results = Shared<[CheckResult]>([])
        let result = Shared<AuditResult?>(nil)
        let taskRecords = Shared<[TaskRecord]>([])
        let stagesSoFar = Shared(stages)
        let inspector = Shared(inspect)
        let heldRun = Shared(run)
        let target = provided.target
        let displayName = provided.displayName
        let runID = run.runID
        let say = Shared(progress)

        var tasks: [RunTask] = []
        func task(_ name: String, _ body: @escaping @Sendable (TaskContext) throws -> Int) {
            tasks.append(RunTask(name, after: TaskName.dependencies[name] ?? [], body: body))
        }
        task(TaskName.initialize) { context in
            var rows = 0
            if dataDirectory.value == nil, let spec = options.generate {
                let directory = NSTemporaryDirectory() + "recon-audit-data-\(schemas.base)"
                generatedDirectory.value = directory
                let report = try DatasetGenerator.generate(spec, to: directory, logger: context.logger)
                if !report.anomalies.isEmpty { say.value("injected \(report.anomalies.count) anomalies (\(directory)/manifest.json)") }
                dataDirectory.value = directory
                rows = report.rows.values.reduce(0, +)
            }
            guard dataDirectory.value != nil else { throw InputError(file: "-", message: "give --data DIR or --generate") }
            try Ingest.prepare(schemas: schemas, connection: try context.connect())
            return rows
        }
        for (name, part) in [(TaskName.importMain, IngestPart.extracts), (TaskName.importResellers, .files)] {
            task(name) { context in
                try context.inTransaction { connection in
                    let report = try Ingest.load(dataset: dataDirectory.value ?? "", part: part, schemas: schemas,
                                                 connection: connection, logger: context.logger)
                    return report.files.reduce(0) { $0 + $1.rowsLoaded }
                }
            }
        }
        for (name, layers, seeds) in [(TaskName.dbtInit, Set<Layer>([.oltp, .ods]), true), (TaskName.dbtModel, [.dwd, .dws, .ads], false)] {
            task(name) { context in
                try context.inTransaction { connection in
                    try runner.build(on: connection, logger: context.logger, layers: layers, seeds: seeds).models.reduce(0) { $0 + $1.rows }
                }
            }
        }
        task(TaskName.checks) { context in
            let connection = try context.connect()
            let engine = CheckEngine(
                resolver: TableResolver(schemas: schemas, project: project), timeoutMilliseconds: options.checkTimeoutMilliseconds,
                zone: zone, tags: options.tags,
                asOf: try options.asOf ?? latestActivity(schemas: schemas, connection: connection) ?? Date(), parallelTarget: target)
            results.value = try engine.evaluate(expectations, connection: connection, logger: context.logger)
            try inspector.value?(heldRun.value)
            return results.value.count
        }
        task(TaskName.reports) { context in
            let connection = try context.connect()
            let needsData = options.formats.contains(.html) || options.formats.contains(.xlsx)
            let data = needsData ? try ReportData.collect(schemas: schemas, connection: connection, zone: zone, month: options.month) : nil
            var audit = AuditResult(
                runID: runID.rawValue, startedAt: isoTimestamp(started), finishedAt: isoTimestamp(Date()),
                database: displayName, summary: CheckSummary(results.value), checks: results.value,
                stages: stagesSoFar.value + taskRecords.value.map(StageTiming.init), expectations: options.expectationsPath)
            audit.tasks = taskRecords.value
            var context = try reportContext(options: options, dataset: options.dataDirectory
                ?? options.generate.map { "generated: seed \($0.seed), \($0.days) days from \($0.start), \($0.ordersPerDay) orders a day, anomalies \($0.anomalies)" } ?? "")
            context.month = options.month
            if let month = options.month { context.title = "Monthly audit pack \(month)" }
            try write(audit, data: data, context: context, formats: options.formats, to: options.reportsDirectory,
                      prefix: options.month.map { "monthly-\($0)" } ?? "recon-report",
                      breaks: ReportData.breakSource(schemas: schemas, connection: connection, month: options.month))
            result.value = audit
            return options.formats.count
        }
        let records: [TaskRecord]
        do {
            records = try TaskRunner.forRun(runID, target: target)
                .run(tasks, logger: logger, progress: { say.value($0) }, finished: taskRecords)
        } catch let failure as TaskFailure {
            // The task's own error is what the exit-code ladder knows (a model's SQL, a bad file).
            throw failure.underlying
        }
        guard var audit = result.value else { throw ClusterError(cause: "the run ended without its reports", fix: "see the log") }
        audit.tasks = records
        audit.stages = stages + records.map(StageTiming.init)
        audit.finishedAt = isoTimestamp(Date())
        try rewriteJSON(audit, formats: options.formats, directory: options.reportsDirectory)
        if case .server = options.database {
            // A database that outlives the run keeps its history (DESIGN.md); the embedded one is deleted.
            try record(audit, schemas: schemas, options: options, connection: run.connection)
        }
        return audit
    }

    /// results.json again once every task has ended: it was written by `write_reports`, before
    /// that task's own record existed (and a run without that task still leaves its task records).
    static func rewriteJSON(_ audit: AuditResult, formats: Set<ReportFormat>, directory: String) throws {
        guard formats.contains(.json) else { return }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try ResultWriters.json(audit).write(to: URL(fileURLWithPath: directory + "/results.json"))
    }

    /// Writes an audit's run, tasks and check results to `recon_meta`.
    static func record(_ audit: AuditResult, schemas: RunSchemas, options: AuditOptions, connection: Connection) throws {
        try RunHistory.ensure(on: connection)
        try RunHistory.start(RunHistory.RunStart(
            runID: audit.runID, kind: "audit", prefix: schemas.base, grain: nil, period: options.month, periodStart: nil,
            periodEnd: nil, database: audit.database,
            expectationsSHA256: (try? SHA256.digest(ofFile: options.expectationsPath).hex) ?? ""), on: connection)
        let code = audit.exitCode(failOn: .error)
        try RunHistory.finish(
            runID: audit.runID, status: code == 0 ? "succeeded" : "failed", exitCode: code, error: nil, tasks: audit.tasks,
            checks: audit.checks, rowsLoaded: audit.tasks.filter { [TaskName.importMain, TaskName.importResellers].contains($0.name) }.reduce(0) { $0 + $1.rows }, restated: 0,
            on: connection)
    }

    /// The end of the data: the latest order, so freshness is judged against the data's own time.
    static func latestActivity(schemas: RunSchemas, connection: Connection) throws -> Date? {
        let table = quoteIdentifier(schemas.name(.dwd)) + ".\"dwd_orders\""
        let exists: Bool = try connection.query("SELECT to_regclass(\(table)) IS NOT NULL").scalar()
        guard exists else { return nil }
        return try connection.query(SQL("SELECT max(created_at) FROM " + table)).scalar(Date?.self)
    }

    /// The chosen report files into the reports folder, under `prefix` (recon-report, monthly-2026-10).
    public static func write(
        _ result: AuditResult, data: ReportData?, context: ReportContext, formats: Set<ReportFormat>, to directory: String,
        prefix: String = "recon-report", breaks: BreakSource? = nil
    ) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if formats.contains(.json) { try ResultWriters.json(result).write(to: URL(fileURLWithPath: directory + "/results.json")) }
        if formats.contains(.junit) { try Data(ResultWriters.junit(result).utf8).write(to: URL(fileURLWithPath: directory + "/junit.xml")) }
        if formats.contains(.html) {
            try Data(HTMLReport.render(result, data: data, context: context).utf8).write(to: URL(fileURLWithPath: directory + "/\(prefix).html"))
        }
        if formats.contains(.xlsx) {
            try XLSXReport.write(result, data: data, context: context, to: directory + "/\(prefix).xlsx", breaks: breaks)
        }
    }

    /// The report header's facts: the expectations file's SHA-256 and the pipeline's git commit.
    static func reportContext(options: AuditOptions, dataset: String) throws -> ReportContext {
        let sha = (try? SHA256.digest(ofFile: options.expectationsPath).hex) ?? ""
        let git = try? ProcessRunner.run("/usr/bin/git", ["-C", options.pipelineDirectory, "rev-parse", "--short", "HEAD"])
        let commit = git.flatMap { $0.status == 0 ? $0.output.trimmingCharacters(in: .whitespacesAndNewlines) : nil }
        return ReportContext(dataset: dataset, expectationsSHA256: sha, pipelineCommit: commit)
    }

    /// The monthly pack from a run whose schemas were kept (`recon report --db URL --run ID`): the
    /// checks are evaluated again on its tables for the appendix; nothing is built.
    public static func monthlyFromKeptRun(
        runID: RunID, target: ConnectionTarget, displayName: String, options: AuditOptions, month: String, logger: Logger
    ) throws -> AuditResult {
        let started = Date()
        let expectations = try ExpectationsParser.parse(file: options.expectationsPath)
        let project = try PipelineProject.load(directory: options.pipelineDirectory)
        let connection = try ConnectionProblem.connect(target)
        let schemas = RunSchemas(runID: runID)
        let present: Int = try connection.query(
            "SELECT count(*) FROM pg_namespace WHERE nspname = ANY(string_to_array(\(schemas.all.joined(separator: ",")), ','))"
        ).scalar()
        guard present == Layer.allCases.count else {
            throw ClusterError(cause: "run \(runID) has no kept schemas on \(displayName)",
                               fix: "run `recon audit --keep-schemas --db URL` first, or build the month from --data")
        }
        let engine = CheckEngine(
            resolver: TableResolver(schemas: schemas, project: project), timeoutMilliseconds: options.checkTimeoutMilliseconds,
            zone: options.vars["business_timezone"] ?? project.vars["business_timezone"] ?? "UTC", asOf: options.asOf ?? Date(),
            parallelTarget: target)
        let clock = ContinuousClock.now
        let results = try engine.evaluate(expectations, connection: connection, logger: logger)
        let data = try ReportData.collect(schemas: schemas, connection: connection, zone: engine.businessTimeZone, month: month)
        var result = AuditResult(
            runID: runID.rawValue, startedAt: isoTimestamp(started), finishedAt: isoTimestamp(Date()), database: displayName,
            summary: CheckSummary(results), checks: results,
            stages: [StageTiming(name: "checks", rows: results.count, durationMS: milliseconds(since: clock))],
            expectations: options.expectationsPath)
        var context = try reportContext(options: options, dataset: "kept run \(runID)")
        context.month = month
        context.title = "Monthly audit pack \(month)"
        try write(result, data: data, context: context, formats: options.formats.intersection([.html, .xlsx]),
                  to: options.reportsDirectory, prefix: "monthly-\(month)",
                  breaks: ReportData.breakSource(schemas: schemas, connection: connection, month: month))
        result.finishedAt = isoTimestamp(Date())
        return result
    }

    /// Evaluates an expectations file against existing tables (`recon check`): nothing is built.
    public static func check(
        expectationsPath: String, target: ConnectionTarget, displayName: String, reportsDirectory: String,
        tags: Set<String>, timeoutMilliseconds: Int, businessTimeZone: String, asOf: Date?, logger: Logger,
        keptRun: RunID? = nil, pipelineDirectory: String = "pipeline", formats: Set<ReportFormat> = [.json, .junit, .html, .xlsx]
    ) throws -> AuditResult {
        let started = Date()
        let expectations = try ExpectationsParser.parse(file: expectationsPath)
        let connection = try ConnectionProblem.connect(target)
        // With a kept run, model names resolve to its schemas; otherwise names are taken as they are.
        let project = keptRun == nil ? nil : try PipelineProject.load(directory: pipelineDirectory)
        let engine = CheckEngine(
            resolver: TableResolver(schemas: keptRun.map { RunSchemas(runID: $0) }, project: project),
            timeoutMilliseconds: timeoutMilliseconds, zone: businessTimeZone, tags: tags, asOf: asOf ?? Date(), parallelTarget: target)
        let clock = ContinuousClock.now
        let results = try engine.evaluate(expectations, connection: connection, logger: logger)
        let stage = StageTiming(name: "checks", rows: results.count, durationMS: milliseconds(since: clock))
        var result = AuditResult(
            runID: (keptRun ?? RunID.generate()).rawValue, startedAt: isoTimestamp(started), finishedAt: isoTimestamp(Date()),
            database: displayName, summary: CheckSummary(results), checks: results, stages: [stage], expectations: expectationsPath)
        try write(result, data: nil, context: ReportContext(), formats: formats, to: reportsDirectory)
        result.finishedAt = isoTimestamp(Date())
        return result
    }
}
