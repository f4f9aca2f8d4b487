import Foundation
import Logging
import Postgres

/// Where and what one `recon run` works on: a period of a persistent warehouse.
public struct PeriodRunOptions: Sendable {
    /// The warehouse's database.
    public var target: ConnectionTarget
    /// The warehouse's schema prefix (`<prefix>_oltp` ... `<prefix>_ads`).
    public var prefix: String
    public var period: Period
    /// The landing folder (DATA_CONTRACT.md layout); needed when an import task runs.
    public var dataDirectory: String?
    /// When another run holds the prefix: wait for it (up to `lockWaitSeconds`) or stop at once.
    public var waitForLock = true
    public var lockWaitSeconds = 3600
    /// Build even when nothing the build reads changed since the last one.
    public var rebuild = false

    public init(target: ConnectionTarget, prefix: String, period: Period) {
        self.target = target
        self.prefix = prefix
        self.period = period
    }
}

/// One period of a persistent warehouse: loads what is new for the period, rebuilds in the run's
/// staging schemas and publishes the changed partitions, evaluates the checks scoped to the
/// period, and records it all in `recon_meta`.
///
/// Crash safety: each import commits its rows together with its watermark and file checksums;
/// each build task builds into the run's staging schemas and publishes in the same transaction.
/// A run killed at any point leaves every table as a committed step left it, and the next run
/// rebuilds from whatever was committed: no period is half-published and no row is loaded twice.
final class PeriodRun: RunMode, @unchecked Sendable {
    // Unchecked: `main` (holding the prefix lock) and `staging` are not Sendable; they are touched
    // only by init and close(), on the orchestration's thread. Tasks use the values below.
    private let main: Connection
    private let staging: RunSession
    private let lock: PrefixLock
    private let interrupts: Interrupts?
    private let interruptMark: Int?

    let connections: RunConnections
    let warehouse: RunSchemas?
    let databaseName: String
    let setupStages: [StageTiming] = []
    let supportedTasks = Set(TaskID.seed)
    let period: Period?
    private let options: PeriodRunOptions
    private let plan: RunPlan
    private let persistent: RunSchemas
    private let end: Date
    private let runner: PipelineRunner
    private let publisher: Publisher
    private let merger: ImportMerger
    /// The models stored as tables (tables and incremental models), in build order, and how they publish.
    private let models: [Model]
    private let tables: [Publisher.Table]
    private let identities: [String: String]
    private let incremental: IncrementalState
    private let seeds: [Publisher.Table]
    private let pipelineDigest: String
    private let progress: @Sendable (String) -> Void

    init(_ options: PeriodRunOptions, plan: RunPlan, interrupts: Interrupts?, logger: Logger,
         progress: @escaping @Sendable (String) -> Void) throws {
        try WarehousePrefix.validate(options.prefix)
        guard let project = plan.project, let pipelineDirectory = plan.request.pipelineDirectory else {
            throw BadValue("a persistent run needs the pipeline folder")
        }
        if options.dataDirectory == nil && !plan.selected.isDisjoint(with: [.importMainData, .importResellerData]) {
            throw BadValue("the import tasks need the landing folder (or leave them out of the tasks)")
        }
        self.options = options
        self.plan = plan
        self.interrupts = interrupts
        self.progress = progress
        period = options.period
        persistent = RunSchemas(prefix: options.prefix)
        warehouse = persistent
        databaseName = options.target.description
        lock = PrefixLock(prefix: options.prefix)

        let runID = RunID.generate()
        main = try RunConnections(runID: runID, target: options.target).connect("lock")
        try RunHistory.ensure(on: main)
        try lock.acquire(on: main, wait: options.waitForLock, waitSeconds: options.lockWaitSeconds, progress: progress)
        do {
            staging = try RunSession(on: options.target, runID: runID, interrupts: interrupts, logger: logger)
        } catch {
            lock.release(on: main)
            throw error
        }
        connections = staging.connections
        let crashed = try RunHistory.markCrashed(prefix: options.prefix, except: runID.rawValue, on: main)
        if !crashed.isEmpty {
            progress("earlier runs ended without finishing (\(crashed.joined(separator: ", "))): this run rebuilds from what they committed")
            // Their staging schemas are theirs alone (kept schemas of other runs are left to `recon gc`).
            for id in crashed.compactMap(RunID.init) {
                try RunSession.drop(schemas: RunSchemas(runID: id).all, on: main)
            }
        }
        let (start, end) = try options.period.instants(zone: plan.zone, connection: main)
        self.end = end
        try RunHistory.start(RunHistory.RunStart(
            runID: runID.rawValue, kind: "run", prefix: options.prefix, grain: options.period.grain.rawValue,
            period: options.period.description, periodStart: start, periodEnd: end, database: databaseName,
            expectationsSHA256: plan.expectationsSHA256), on: main)
        progress("run \(runID): \(options.prefix) \(options.period.grain.rawValue) \(options.period) on \(databaseName)")
        // Stopped by SIGINT/SIGTERM, the run says so in its history (its staging goes with the session's own cleanup).
        let target = options.target
        interruptMark = interrupts?.register {
            guard let connection = try? Connection(target, applicationName: "recon-cleanup") else { return }
            _ = try? RunHistory.markInterrupted(runID: runID.rawValue, on: connection)
        }

        // Gateway files of a day are in once the day has ended: captures whose settlement window
        // runs past the last such day are pending, not missing. The warehouse holds everything
        // loaded so far, so a replay of an older period judges by the latest load, not its own end
        // (and leaves the tables as they are).
        var vars = plan.request.vars
        if vars["files_complete_through"] == nil, project.vars["files_complete_through"] != nil {
            let loaded = try main.query("""
                SELECT (max(loaded_until) AT TIME ZONE \(plan.zone))::date FROM recon_meta.watermarks WHERE schema_prefix = \(options.prefix)
                """).scalar(CalendarDate?.self)
            let due = options.period.filesDueBefore
            vars["files_complete_through"] = max(due, loaded ?? due).adding(days: -1).description
        }
        runner = try PipelineRunner(project: project, schemas: staging.schemas, overrides: vars, readSchemas: persistent)
        publisher = Publisher(staging: staging.schemas, target: persistent, prefix: options.prefix, runID: runID.rawValue,
                              logger: logger)
        models = try project.orderedModels().filter(\.config.isTable)
        tables = models.map { Publisher.Table(name: $0.name, layer: $0.layer, partitionBy: $0.config.partitionBy, restatements: $0.config.restatements) }
        identities = try runner.identities()
        incremental = IncrementalState(prefix: options.prefix)
        seeds = project.seeds.map { Publisher.Table(name: $0.name, layer: .ods, partitionBy: nil) }
        merger = ImportMerger(staging: staging.schemas, persistent: persistent, prefix: options.prefix, runID: runID.rawValue)
        pipelineDigest = try BuildInputs.digest(ofDirectory: pipelineDirectory)

        // The staging tables every later task needs exist whatever the selection, and so does the
        // warehouse: made by its own task, or here when a selection (an Airflow task) leaves it out.
        try Ingest.prepare(schemas: staging.schemas, connection: staging.connection)
        if !plan.selected.contains(.initializeETLEnvironment) { try merger.createWarehouse(on: main) }
    }

    func prepare(_ context: TaskContext) throws -> Dataset? {
        try context.inTransaction { connection in try merger.createWarehouse(on: connection) }
        return options.dataDirectory.map { Dataset(directory: $0) }
    }

    func load(_ part: IngestPart, from dataset: Dataset?, _ context: TaskContext) throws -> LoadReport {
        guard let directory = dataset?.directory ?? options.dataDirectory else {
            throw BadValue("the import tasks need the landing folder")
        }
        return try context.inTransaction { connection in
            let window = try merger.window(part: part, until: end, filesDueBefore: options.period.filesDueBefore, on: connection)
            let report = try Ingest.load(dataset: directory, part: part, schemas: staging.schemas, connection: connection,
                                         logger: context.logger, window: window, vars: plan.vars)
            try merger.merge(part: part, report: report, until: end, on: connection)
            if !report.reloaded.isEmpty {
                context.progress("\(context.task.rawValue): replaced the rows of changed files \(report.reloaded.joined(separator: ", "))")
            }
            return report
        }
    }

    /// Builds in staging and publishes the changed partitions, in one transaction; skipped when
    /// nothing the build reads changed since the last build (the fingerprint is taken once per
    /// run: the other build task's, when it ran before this one). Incremental models whose
    /// identity and sources' epoch are those of their last build merge their batch into the
    /// warehouse's table instead; the others are built whole and published like tables.
    func build(_ task: TaskID, after outputs: RunOutputs, _ context: TaskContext) throws -> BuildOutcome {
        let initTask = task == .runDbtInitTasks
        let layers: Set<Layer> = initTask ? [.oltp, .ods] : [.dwd, .dws, .ads]
        let built = models.filter { layers.contains($0.layer) }
        let connection = try context.connect()
        let inputs = BuildInputs(prefix: options.prefix, task: task, persistent: persistent)
        let epoch = try incremental.epoch(on: connection)
        let fingerprint = try outputs.builds.values.compactMap(\.inputsFingerprint).first
            ?? BuildInputs.fingerprint(persistent: persistent, epoch: epoch, pipeline: pipelineDigest, vars: runner.vars, on: connection)
        let allTables = (initTask ? seeds : []) + tables.filter { layers.contains($0.layer) }
        if !options.rebuild, let last = try inputs.lastBuild(matching: fingerprint, tables: allTables, on: connection) {
            context.progress("\(task.rawValue): up to date (nothing it reads changed since run \(last)); a rebuild builds anyway")
            return BuildOutcome(report: BuildReport(), inputsFingerprint: fingerprint, upToDateSince: last)
        }
        let merging = options.rebuild ? [] : try incremental.mergeable(built, identities: identities, epoch: epoch,
                                                                         warehouse: persistent, on: connection)
        let published = allTables.filter { !merging.contains($0.name) }
        let byName = Dictionary(uniqueKeysWithValues: tables.map { ($0.name, $0) })
        let (publisher, closed) = (self.publisher, options.period.day)
        let plan = MergePlan(models: merging) { model, batch, connection in
            guard let table = byName[model.name] else { return [] }
            return try publisher.merge(table, uniqueKey: model.config.uniqueKey, batch: batch, closedBefore: closed, on: connection)
        }
        let (report, changed) = try context.inTransaction(on: connection) { connection in
            let report = try runner.build(on: connection, logger: context.logger, layers: layers, seeds: initTask,
                                          recordStatements: self.plan.request.recordStatements, merging: plan)
            let changed = try publisher.publish(published, closedBefore: closed, on: connection)
            try inputs.record(fingerprint, runID: connections.runID.rawValue, on: connection)
            try incremental.record(built, identities: identities, epoch: epoch, runID: connections.runID.rawValue, on: connection)
            return (report, changed)
        }
        try VacuumDue(published: changed).run(on: connection, logger: context.logger) { context.progress("\(task.rawValue): \($0)") }
        return BuildOutcome(report: report, published: report.merged + changed, inputsFingerprint: fingerprint)
    }

    /// Checks scoped to the period; freshness judged at the period's end unless asked.
    func checkSettings(on connection: Connection) throws -> CheckSettings {
        CheckSettings(scope: CheckScope(period: options.period, zone: plan.zone), asOf: plan.request.asOf ?? end)
    }

    func describe(on connection: Connection) throws -> ReportContext {
        try Self.describe(prefix: options.prefix, period: options.period,
                          dataset: (options.dataDirectory ?? "warehouse \(options.prefix)") + ", \(options.period.grain.rawValue) \(options.period)",
                          on: connection)
    }

    /// What the reports of a warehouse's period say beside its tables: the run history's trend and,
    /// for a month, its sign-offs and break register (also `recon report --schema-prefix`).
    static func describe(prefix: String, period: Period, dataset: String, on connection: Connection) throws -> ReportContext {
        var context = ReportContext(dataset: dataset)
        context.title = "FundRecon run \(prefix) \(period)"
        context.trend = try RunHistory.trend(prefix: prefix, on: connection)
        if period.grain == .month {
            context.signOffs = try SignOffs.records(prefix: prefix, month: period.description, on: connection)
            context.breakRegister = try BreakRegister.month(period.description, prefix: prefix, on: connection)
        }
        return context
    }

    /// A run that changed a month finance signed off fails, with the money that moved; the
    /// month's sign-offs are withdrawn (SignOffs).
    func judge(_ result: inout AuditResult, outputs: RunOutputs) throws {
        try updateBreakRegister(runID: result.runID)
        let changes = try SignOffs.guardClosedMonths(prefix: options.prefix, runID: result.runID, project: runner.project, on: main)
        guard !changes.isEmpty else { return }
        for change in changes {
            progress("signed month \(change.month) changed: its sign-offs are withdrawn ("
                + change.money.prefix(3).map { "\($0.key) \($0.signed) -> \($0.now)" }.joined(separator: "; ") + ")")
        }
        result.checks.append(SignOffs.result(for: changes))
        result.summary = CheckSummary(result.checks)
    }

    /// The break register follows the warehouse's breaks model: what it shows is open (or stays
    /// waived), what it no longer shows is resolved on the period's last day.
    func updateBreakRegister(runID: String) throws {
        guard let model = runner.project.model(for: .breaks) else { return }
        let breaks: SQL = "\(schema: persistent.name(model.layer), table: model.name)"
        let exists: Bool = try main.query("SELECT to_regclass(\(breaks.text)) IS NOT NULL").scalar()
        guard exists else { return }
        let last = options.period.grain == .month ? options.period.day.lastOfMonth : options.period.day
        let (opened, resolved) = try BreakRegister.sync(prefix: options.prefix, breaks: breaks, runID: runID, resolvedOn: last, on: main)
        if opened + resolved > 0 { progress("break register: \(opened) new, \(resolved) resolved") }
    }

    func finish(_ result: AuditResult, outputs: RunOutputs) throws {
        let code = result.exitCode(failOn: .error)
        let restated = result.restatements ?? []
        try RunHistory.finish(runID: result.runID, status: code == 0 ? .succeeded : .failed, exitCode: code, error: nil,
                              tasks: result.tasks, checks: result.checks, rowsLoaded: rowsLoaded(outputs),
                              restated: restated.count, on: main)
        try RunHistory.recordRestatements(restated, runID: result.runID, prefix: options.prefix, on: main)
        for change in restated {
            let money = (change.amounts ?? []).prefix(4).map(\.text).joined(separator: ", ")
            progress("restated \(change.table) \(change.partition): \(change.rowsBefore) -> \(change.rowsAfter) rows"
                + (money.isEmpty ? "" : "; " + money))
        }
    }

    func fail(_ failure: TaskFailure) {
        try? RunHistory.finish(runID: connections.runID.rawValue, status: .error, exitCode: 3, error: "\(failure)",
                               tasks: failure.records, checks: failure.outputs.checks, rowsLoaded: rowsLoaded(failure.outputs),
                               restated: 0, on: main)
    }

    func rowsLoaded(_ outputs: RunOutputs) -> Int { outputs.load.files.reduce(0) { $0 + $1.rowsLoaded } }

    func close() {
        if let interruptMark { interrupts?.remove(interruptMark) }
        try? staging.close()
        lock.release(on: main)
    }
}
