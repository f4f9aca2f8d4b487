import Foundation
import Logging
import Postgres

/// The one run path. Every command that loads, builds, checks or reports comes here with the tasks
/// it wants and the kind of run: the files are read first (a typo costs no database), the mode is
/// opened, the tasks run as a DAG (retries, records, interrupts), the result is built once from
/// their outputs and records, and every report file is written once from it.
public enum Orchestrator {
    /// Runs `request` as a run of `kind`. Bad files and values throw their `ReconError` (exit 2)
    /// before the database is touched where possible; a task that failed for good throws its own
    /// error after the mode recorded the failure.
    public static func run(
        _ request: RunRequest, kind: RunKind, interrupts: Interrupts?, logger: Logger,
        progress: @escaping @Sendable (String) -> Void
    ) throws -> RunResult {
        let started = Date()
        let plan = try RunPlan(request)
        let mode = try open(kind, plan: plan, interrupts: interrupts, logger: logger, progress: progress)
        defer { mode.close() }
        let unsupported = plan.selected.subtracting(mode.supportedTasks).sorted()
        guard unsupported.isEmpty else {
            throw BadValue("this run reads existing tables and cannot do \(unsupported.map(\.rawValue).joined(separator: ", "))")
        }
        let tasks = plan.selected.sorted().map { id in
            RunTask(id, after: id.dependencies(among: plan.selected), work: work(of: id, plan: plan, mode: mode, interrupts: interrupts))
        }
        let outcome: TaskRunner.Outcome
        do {
            outcome = try TaskRunner(connections: mode.connections).run(tasks, logger: logger, progress: progress) { event in
                if event.record.status != .pending { progress(event.line) }
            }
        } catch let failure as TaskFailure {
            mode.fail(failure)
            // The task's own error is what the exit-code ladder knows (a model's SQL, a bad file).
            throw failure.underlying
        }

        var audit = AuditResult(
            runID: mode.connections.runID.rawValue, startedAt: isoTimestamp(started), finishedAt: isoTimestamp(Date()),
            database: mode.databaseName, summary: CheckSummary(outcome.outputs.checks), checks: outcome.outputs.checks,
            stages: mode.setupStages + outcome.records.map(StageTiming.init), expectations: request.expectationsPath)
        audit.tasks = outcome.records
        let waivers = outcome.outputs.checks.flatMap { $0.waivers ?? [] }
        audit.waivers = waivers.isEmpty ? nil : waivers
        audit.evidence = plan.evidence(outputs: outcome.outputs)
        if !outcome.outputs.builds.isEmpty, mode.period == nil, let warehouse = mode.warehouse {
            // Where a Citus build put the run's rows (nil on one PostgreSQL), read once its work
            // committed; not for a persistent warehouse, whose every shard it would count each run.
            // A figure, not a finding: when it cannot be read the run says so and goes on.
            do {
                let placement = try Distribution.placement(schemas: warehouse.all, on: try mode.connections.connect("placement"))
                audit.placement = placement.isEmpty ? nil : placement
            } catch {
                logger.warning("where the distributed rows lie could not be read: \(error)")
            }
        }
        try mode.judge(&audit, outputs: outcome.outputs)
        if let period = mode.period {
            audit.period = period.description
            audit.restatements = outcome.outputs.published.filter(\.restatement)
            audit.partitionsReplaced = outcome.outputs.published.count
        }
        let files = try writeReports(audit, outputs: outcome.outputs, plan: plan, mode: mode, progress: progress)
        try mode.finish(audit, outputs: outcome.outputs)
        return RunResult(audit: audit, outputs: outcome.outputs, reportFiles: files)
    }

    /// Opens the mode `kind` names.
    static func open(
        _ kind: RunKind, plan: RunPlan, interrupts: Interrupts?, logger: Logger, progress: @escaping @Sendable (String) -> Void
    ) throws -> any RunMode {
        switch kind {
        case .ephemeral(let database, let source, let keepSchemas):
            return try EphemeralRun(database: database, source: source, keepSchemas: keepSchemas, plan: plan,
                                    interrupts: interrupts, logger: logger, progress: progress)
        case .existing(let target, let tables):
            return try ExistingTables(target: target, tables: tables, plan: plan, interrupts: interrupts)
        case .period(let options):
            return try PeriodRun(options, plan: plan, interrupts: interrupts, logger: logger, progress: progress)
        }
    }

    /// The work of one task: the shared tasks are written here, the rest asks the mode.
    static func work(
        of task: TaskID, plan: RunPlan, mode: any RunMode, interrupts: Interrupts?
    ) -> @Sendable (TaskContext, RunOutputs) throws -> TaskOutput {
        switch task {
        case .initializeETLEnvironment:
            return { context, _ in .prepared(try mode.prepare(context)) }
        case .importMainData:
            return { context, outputs in .loaded(try mode.load(.extracts, from: outputs.dataset, context)) }
        case .importResellerData:
            return { context, outputs in .loaded(try mode.load(.files, from: outputs.dataset, context)) }
        case .runDbtInitTasks, .runDbtModel:
            return { context, outputs in .built(try mode.build(task, after: outputs, context)) }
        case .runChecks:
            return { context, _ in
                guard let expectations = plan.expectations else { return .checked([], asOf: nil) }
                let connection = try context.connect()
                let settings = try mode.checkSettings(on: connection)
                var engine = CheckEngine(resolver: TableResolver(schemas: mode.warehouse, project: plan.project))
                engine.timeoutMilliseconds = plan.request.checkTimeoutMilliseconds
                engine.businessTimeZone = plan.zone
                engine.tags = plan.request.tags
                engine.asOf = settings.asOf
                engine.scope = settings.scope
                let waiting = engine.waiting(expectations)
                if !waiting.isEmpty {
                    context.logger.info("\(waiting.count) checks are judged when the day closes (cadence: day): \(waiting.map(\.id).joined(separator: ", "))")
                }
                // The checks log in as a role that reads what they name and nothing else.
                let access = try CheckAccess.of(expectations, runSchemas: mode.warehouse.map { $0.all + mode.sharedSchemas },
                                                on: connection)
                engine.defaultSearchPath = access.searchPath
                let parallel = try Self.checksAtOnce(on: connection)
                let reader = try CheckReader.open(plan.request.checkRole, schemas: access.schemas, workers: parallel,
                                                  connections: mode.connections, owner: connection,
                                                  interrupts: interrupts, logger: context.logger)
                defer { reader.close() }
                context.logger.info("checks run as \(reader.summary), \(parallel) at a time")
                let workers = (0..<parallel).map { worker in CheckWorker { try reader.connect(worker: worker) } }
                return .checked(try engine.evaluate(expectations, workers: workers, logger: context.logger), asOf: settings.asOf)
            }
        case .snapshotOutputs:
            return { context, _ in
                guard let project = plan.project, let warehouse = mode.warehouse else { return .snapshots([]) }
                let connection = try context.connect()
                return .snapshots(try project.models.filter { $0.layer == .ads && $0.config.isTable }.map {
                    try TableSnapshot.read(table: $0.name, schema: warehouse.name(.ads), connection: connection)
                })
            }
        case .writeReports:
            return { context, _ in
                let connection = try context.connect()
                var figures: ReportData?
                if let tables = plan.reportTables, let warehouse = mode.warehouse {
                    figures = try ReportData.collect(tables: tables.located(in: warehouse), connection: connection, zone: plan.zone,
                                                     month: plan.month(of: mode), breakMateriality: plan.expectations?.breakMateriality)
                }
                return .reportInputs(ReportInputs(figures: figures, context: try mode.describe(on: connection)))
            }
        }
    }

    /// How many checks run at once: two on one PostgreSQL (two cores, a check's statement mostly on
    /// one), one on a Citus coordinator with workers, where a check's statement already runs as shard
    /// tasks on every worker at once. Two at once there only shared the workers' cores, and each
    /// check's statement timeout then measured its neighbour too (docs/scale-out.md).
    static func checksAtOnce(on connection: Connection) throws -> Int {
        try Distribution.workers(on: connection) > 0 ? 1 : 2
    }

    /// Writes the run's report files from its result, each once: results.json for every run (it is
    /// the run's record), the HTML, XLSX and JUnit when `write_reports` gathered their inputs.
    static func writeReports(
        _ audit: AuditResult, outputs: RunOutputs, plan: RunPlan, mode: any RunMode, progress: (String) -> Void
    ) throws -> [String] {
        let month = plan.month(of: mode)
        var writer = ReportWriter(directory: plan.request.reportsDirectory, formats: plan.request.formats)
        writer.prefix = month.map { "monthly-\($0)" } ?? "recon-report"
        guard var inputs = outputs.reportInputs else { return try writer.write(audit, inputs: nil, breaks: nil) }
        inputs.context.month = month
        if let month { inputs.context.title = "Monthly audit pack \(month)" }
        inputs.context.expectationsSHA256 = plan.expectationsSHA256
        inputs.context.pipelineCommit = plan.pipelineCommit
        inputs.context.restatements = audit.restatements ?? []
        for check in audit.checks {
            inputs.context.trend[check.id, default: []].append(TrendPoint(
                status: check.status.rawValue, failingRows: check.failingRows, runID: audit.runID, period: audit.period ?? ""))
        }
        let clock = ContinuousClock.now
        var breaks: BreakSource?
        if writer.formats.contains(.xlsx), let tables = plan.reportTables, let warehouse = mode.warehouse {
            // The workbook lists every break: streamed from the warehouse (the source holds its own
            // connection of the run), never held in memory.
            breaks = ReportData.breakSource(table: tables.located(in: warehouse).breaks,
                                            connection: try mode.connections.connect(TaskID.writeReports.rawValue), month: month,
                                            materiality: plan.expectations?.breakMateriality)
        }
        let files = try writer.write(audit, inputs: inputs, breaks: breaks)
        progress("reports: \(files.count) file\(files.count == 1 ? "" : "s") in \(milliseconds(since: clock)) ms")
        return files
    }
}

/// A request, read: the selected tasks, the expectations and pipeline parsed, what the reports
/// need from the pipeline found. Made before any database is touched.
struct RunPlan: Sendable {
    let request: RunRequest
    let selected: Set<TaskID>
    let expectations: ExpectationsFile?
    let project: PipelineProject?
    /// The models the reports read, when the run writes figures (HTML or XLSX).
    let reportTables: ReportTables?
    /// The business time zone: the override, the project's, or UTC.
    let zone: String
    let expectationsSHA256: String
    /// The git commit the pipeline folder is at (asked once: the reports and the evidence show it).
    let pipelineCommit: String?

    init(_ request: RunRequest) throws {
        self.request = request
        selected = Set(request.tasks)
        var expectations = selected.contains(.runChecks) ? try ExpectationsParser.parse(file: request.expectationsPath) : nil
        if let path = request.waiversPath, var file = expectations {
            file.waivers += try ExpectationsParser.waivers(file: path, checks: file.checks)
            expectations = file
        }
        self.expectations = expectations
        project = try request.pipelineDirectory.map { try PipelineProject.load(directory: $0) }
        if let project { _ = try project.orderedModels() }
        if !request.formats.isEmpty && !request.reportsDirectory.isEmpty {
            // A reports path that cannot be a folder is known before an hour of work, not after.
            try ReportWriter.prepare(directory: request.reportsDirectory)
        }
        let figures = selected.contains(.writeReports) && !request.formats.isDisjoint(with: [.html, .xlsx])
        reportTables = figures ? try project.map { try ReportTables(project: $0) } : nil
        zone = request.vars["business_timezone"] ?? project?.vars["business_timezone"] ?? "UTC"
        expectationsSHA256 = expectations == nil ? "" : (try? SHA256.digest(ofFile: request.expectationsPath).hex) ?? ""
        pipelineCommit = request.pipelineDirectory.flatMap(RunPlan.commit(of:))
    }

    /// What the run was made of (results.json `evidence`, the reports' evidence section).
    func evidence(outputs: RunOutputs) -> Evidence {
        let runner = Evidence.runner
        var evidence = Evidence(toolVersion: Evidence.toolVersion, user: runner.user, host: runner.host)
        evidence.asOf = outputs.asOf.map(isoTimestamp)
        evidence.expectationsSHA256 = expectationsSHA256.isEmpty ? nil : expectationsSHA256
        evidence.pipelineCommit = pipelineCommit
        for check in expectations?.checks ?? [] where check.tolerance != 0 { evidence.tolerances[check.id] = "\(check.tolerance)" }
        evidence.breakMateriality = expectations?.breakMateriality?.text
        let load = outputs.load
        evidence.inputs = load.files
        evidence.ignored = load.ignored
        return evidence
    }

    /// The vars in force: the project's, with the request's overrides.
    var vars: [String: String] { (project?.vars ?? [:]).merging(request.vars) { $1 } }

    /// The month a monthly pack covers: asked for, or the period of a month's persistent run.
    func month(of mode: any RunMode) -> String? {
        request.month ?? mode.period.flatMap { $0.grain == .month ? $0.description : nil }
    }

    /// The git commit the pipeline folder is at, when it is in a repository.
    static func commit(of directory: String) -> String? {
        let git = try? ProcessRunner.run("/usr/bin/git", ["-C", directory, "rev-parse", "--short", "HEAD"])
        return git.flatMap { $0.status == 0 ? $0.output.trimmingCharacters(in: .whitespacesAndNewlines) : nil }
    }
}
