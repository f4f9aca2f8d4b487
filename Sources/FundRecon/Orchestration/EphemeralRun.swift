import Foundation
import Logging
import Postgres

/// The ephemeral run: a database (the embedded default or a server), the run's own schemas
/// `rc_<runid>_*`, sources from a directory or generated for the run, the whole pipeline built,
/// every check unscoped; the schemas are dropped at the end unless kept. What `recon audit`,
/// `build`, `load`, `report --data`, golden and coverage run.
final class EphemeralRun: RunMode, @unchecked Sendable {
    // Unchecked: the database and the session (not Sendable) are touched only by init and close(),
    // on the thread that runs the orchestration; tasks use the immutable values below.
    private let database: ProvidedDatabase
    private let session: RunSession
    private let interrupts: Interrupts?
    /// Marks the run interrupted in the server's history when a signal ends it.
    private var historyMark: Int?

    let connections: RunConnections
    let warehouse: RunSchemas?
    let databaseName: String
    let setupStages: [StageTiming]
    let supportedTasks = Set(TaskID.allCases)
    private let source: DataSource
    private let runner: PipelineRunner?
    private let plan: RunPlan
    /// Where a generated dataset is written (removed with the run unless its schemas are kept).
    private let generatedDirectory: String
    /// A user's `--keep-schemas` keeps the generated dataset with them.
    private let keepsDataset: Bool

    init(database choice: DatabaseChoice, source: DataSource, keepSchemas: Bool, plan: RunPlan, interrupts: Interrupts?,
         logger: Logger, progress: @Sendable (String) -> Void) throws {
        let clock = ContinuousClock.now
        database = try ProvidedDatabase(choice, interrupts: interrupts, logger: logger)
        setupStages = [StageTiming(name: "database", rows: 0, durationMS: milliseconds(since: clock))]
        progress("database: 0 rows in \(setupStages[0].durationMS) ms")
        if keepSchemas && database.cluster != nil {
            logger.warning("keeping the schemas keeps nothing on the embedded cluster, which is deleted at exit: name a server")
        }
        // On the embedded cluster an interrupt deletes the whole cluster: no schemas to drop first.
        session = try RunSession(on: database.target, runID: plan.request.runID ?? .generate(),
                                 keepSchemas: keepSchemas || plan.request.handsOverSchemas,
                                 interrupts: database.cluster == nil ? interrupts : nil, logger: logger)
        session.announcesKept = !plan.request.handsOverSchemas
        keepsDataset = keepSchemas
        connections = session.connections
        warehouse = session.schemas
        databaseName = database.displayName
        self.source = source
        self.plan = plan
        let schemas = session.schemas
        runner = try plan.project.map { try PipelineRunner(project: $0, schemas: schemas, overrides: plan.request.vars) }
        // A generated dataset is the run's own, removed with it (also when a signal ends the
        // process, or by the watchdog or the next command when it died); kept with the schemas.
        if case .generate = source, !keepsDataset {
            generatedDirectory = TemporaryFiles.path(.auditData, unique: schemas.base)
        } else {
            generatedDirectory = NSTemporaryDirectory() + "recon-audit-data-\(schemas.base)"
        }
        self.interrupts = interrupts
        if recordsHistory {
            // A server keeps the run's history from its start: an interrupted run is marked so.
            let connection = try connections.connect("history")
            try RunHistory.ensure(on: connection)
            try RunHistory.start(RunHistory.RunStart(
                runID: connections.runID.rawValue, kind: "audit", prefix: schemas.base, grain: nil, period: plan.request.month,
                periodStart: nil, periodEnd: nil, database: databaseName, expectationsSHA256: plan.expectationsSHA256),
                on: connection)
            let (target, runID) = (database.target, connections.runID.rawValue)
            historyMark = interrupts?.register {
                guard let connection = try? Connection(target, applicationName: "recon-cleanup") else { return }
                _ = try? RunHistory.markInterrupted(runID: runID, on: connection)
            }
        }
        progress("run \(schemas.base.dropFirst(3)) on \(databaseName)")
    }

    /// A server outlives the run, so it keeps the run's history (DESIGN.md); the embedded one is deleted.
    private var recordsHistory: Bool { database.cluster == nil && plan.selected.contains(.runChecks) }

    func prepare(_ context: TaskContext) throws -> Dataset? {
        var dataset: Dataset?
        switch source {
        case .directory(let directory):
            dataset = Dataset(directory: directory)
        case .generate(let spec):
            let report = try DatasetGenerator.generate(spec, to: generatedDirectory, logger: context.logger)
            if !report.anomalies.isEmpty {
                context.progress("injected \(report.anomalies.count) anomalies (\(generatedDirectory)/manifest.json)")
            }
            dataset = Dataset(directory: generatedDirectory, generated: report)
        case .shared(let other):
            try Ingest.share(from: other, schemas: session.schemas, connection: try context.connect())
            return nil
        case .none:
            dataset = nil
        }
        try Ingest.prepare(schemas: session.schemas, connection: try context.connect(), distribute: true)
        return dataset
    }

    func load(_ part: IngestPart, from dataset: Dataset?, _ context: TaskContext) throws -> LoadReport {
        guard let dataset else { throw BadValue("the imports need a dataset directory or a generated dataset") }
        return try context.inTransaction { connection in
            try Ingest.load(dataset: dataset.directory, part: part, schemas: session.schemas, connection: connection,
                            logger: context.logger, vars: plan.vars)
        }
    }

    func build(_ task: TaskID, after outputs: RunOutputs, _ context: TaskContext) throws -> BuildOutcome {
        guard let runner else { throw BadValue("a build needs the pipeline folder") }
        let layers: Set<Layer> = task == .runDbtInitTasks ? [.oltp, .ods] : [.dwd, .dws, .ads]
        let seeds = task == .runDbtInitTasks
        // On Citus the models are committed one by one: the files a repartitioned statement leaves
        // on the workers are kept until its transaction ends (1.1 GB a worker at 1,000,000 orders
        // by the build's end, in one transaction). The run's schemas are its own and dropped when
        // it ends, so a failed attempt leaves nothing another run sees; its retry makes again what
        // the attempt committed.
        let connection = try context.connect()
        if !seeds, try Distribution.workers(on: connection) > 0 {
            let report = try runner.build(on: connection, logger: context.logger, layers: layers, seeds: false,
                                          recordStatements: plan.request.recordStatements, modelByModel: true)
            try context.checkpoint(connection)
            return BuildOutcome(report: report)
        }
        let report = try context.inTransaction(on: connection) { connection in
            try runner.build(on: connection, logger: context.logger, layers: layers, seeds: seeds,
                             recordStatements: plan.request.recordStatements)
        }
        return BuildOutcome(report: report)
    }

    /// Unscoped checks; freshness is judged at the end of the data (its latest order) unless asked.
    func checkSettings(on connection: Connection) throws -> CheckSettings {
        CheckSettings(scope: nil, asOf: try plan.request.asOf ?? latestActivity(connection) ?? Date())
    }

    /// The time of the latest order, when the pipeline builds the orders model.
    func latestActivity(_ connection: Connection) throws -> Date? {
        guard let orders = plan.project?.model(for: .orders), let warehouse else { return nil }
        let table: SQL = "\(schema: warehouse.name(orders.layer), table: orders.name)"
        let exists: Bool = try connection.query("SELECT to_regclass(\(table.text)) IS NOT NULL").scalar()
        guard exists else { return nil }
        return try connection.query("SELECT max(created_at) FROM \(table)").scalar(Date?.self)
    }

    var sharedSchemas: [String] {
        guard case .shared(let other) = source else { return [] }
        return [other.name(.oltp), other.name(.ods)]
    }

    func describe(on connection: Connection) throws -> ReportContext {
        switch source {
        case .directory(let directory):
            return ReportContext(dataset: directory)
        case .generate(let spec):
            return ReportContext(dataset: spec.summary)
        case .shared(let other):
            return ReportContext(dataset: "the sources of run \(other.base.dropFirst(3))")
        case .none:
            return ReportContext()
        }
    }

    func finish(_ result: AuditResult, outputs: RunOutputs) throws {
        guard recordsHistory else { return }
        let code = result.exitCode(failOn: .error)
        try RunHistory.finish(
            runID: result.runID, status: code == 0 ? .succeeded : .failed, exitCode: code, error: nil, tasks: result.tasks,
            checks: result.checks, rowsLoaded: outputs.load.files.reduce(0) { $0 + $1.rowsLoaded }, restated: 0,
            on: try connections.connect("history"))
    }

    func fail(_ failure: TaskFailure) {
        guard recordsHistory, let connection = try? connections.connect("history") else { return }
        try? RunHistory.finish(
            runID: connections.runID.rawValue, status: .error, exitCode: 3, error: "\(failure)", tasks: failure.records,
            checks: failure.outputs.checks, rowsLoaded: failure.outputs.load.files.reduce(0) { $0 + $1.rowsLoaded }, restated: 0,
            on: connection)
    }

    func close() {
        if let historyMark { interrupts?.remove(historyMark) }
        if case .generate = source, !keepsDataset { TemporaryFiles.remove(generatedDirectory) }
        try? session.close()
        database.close()
    }
}
