import Foundation
import Logging
import Postgres

/// What `recon diff` is asked for.
public struct DiffRequest: Sendable {
    public var base: DiffSide
    public var head: DiffSide
    /// The sources: a dataset folder or a generated one, loaded once for both sides.
    public var source: DataSource
    public var database: DatabaseChoice
    /// Var overrides, given to both sides.
    public var vars: [String: String] = [:]
    public var closedThrough: CalendarDate?
    public var policy = DiffPolicy.default
    public var reportsDirectory = "reports"
    public var checkTimeoutMilliseconds = 60_000
    /// Compare every model, also those whose SQL, vars and inputs are the same on both sides.
    public var compareAll = false
    /// Leave both sides' schemas in place (with a server).
    public var keepSchemas = false

    public init(base: DiffSide, head: DiffSide, source: DataSource, database: DatabaseChoice) {
        self.base = base
        self.head = head
        self.source = source
        self.database = database
    }
}

/// What a diff gave: the comparison, the policy's verdict, the files written.
public struct DiffOutcome: Sendable {
    public var result: DiffResult
    public var violations: [String]
    public var files: [String]
    /// 1 when the policy is broken, else 0.
    public var exitCode: Int32 { violations.isEmpty ? 0 : 1 }
}

/// `recon diff`: the sources loaded once, the head and base pipelines built side by side in one
/// database (the base reads the head run's sources through views), both expectations files
/// evaluated, and the two warehouses compared in PostgreSQL.
public enum DiffRunner {
    public static func run(
        _ request: DiffRequest, interrupts: Interrupts?, logger: Logger, progress: @escaping @Sendable (String) -> Void
    ) throws -> DiffOutcome {
        let clock = ContinuousClock.now
        // Both pipelines and expectations are read before anything is loaded: a typo costs nothing.
        let headProject = try PipelineProject.load(directory: request.head.pipeline)
        let baseProject = try PipelineProject.load(directory: request.base.pipeline)
        _ = try headProject.orderedModels()
        _ = try baseProject.orderedModels()
        let headExpectations = try ExpectationsParser.parse(file: request.head.expectations)
        let baseExpectations = try ExpectationsParser.parse(file: request.base.expectations)
        try ReportWriter.prepare(directory: request.reportsDirectory)

        var result = DiffResult(base: request.base.label, head: request.head.label)
        var source = request.source
        var generated: String?
        defer { if let generated { TemporaryFiles.remove(generated) } }
        switch request.source {
        case .generate(let spec):
            let directory = TemporaryFiles.path(.diff)
            generated = directory
            let started = ContinuousClock.now
            _ = try DatasetGenerator.generate(spec, to: directory, logger: logger)
            result.timings["generate"] = milliseconds(since: started)
            source = .directory(directory)
            result.dataset = spec.summary
        case .directory(let directory):
            result.dataset = directory
        case .shared, .none:
            throw BadValue("a diff needs --data DIR or --generate")
        }

        let database = try ProvidedDatabase(request.database, interrupts: interrupts, logger: logger)
        defer { database.close() }
        if request.keepSchemas && database.cluster != nil {
            logger.warning("keeping the schemas keeps nothing on the embedded cluster, which is deleted at exit: name a server")
        }
        // Both runs are named before they start and keep their schemas for the comparison; they
        // are dropped here at the end, and on a signal (the embedded cluster is deleted whole).
        let runs = (head: RunID.generate(), base: RunID.generate())
        let schemas = (head: RunSchemas(runID: runs.head), base: RunSchemas(runID: runs.base))
        result.runs = ["head": runs.head.rawValue, "base": runs.base.rawValue]
        let target = database.target
        let dropsSchemas = !request.keepSchemas
        let cleanup = database.cluster == nil ? interrupts?.register {
            guard let connection = try? Connection(target, applicationName: "recon-cleanup") else { return }
            for run in [runs.head, runs.base] { try? RunConnections(runID: run, target: target).terminateSessions(from: connection) }
            guard dropsSchemas else { return }
            _ = try? connection.execute("SET lock_timeout = '10s'")
            try? RunSession.drop(schemas: schemas.head.all + schemas.base.all, on: connection)
        } : nil
        defer {
            if let cleanup { interrupts?.remove(cleanup) }
            if dropsSchemas, let connection = try? database.connect() {
                try? RunSession.drop(schemas: schemas.head.all + schemas.base.all, on: connection)
            }
        }

        /// Builds one side and evaluates its expectations, in a run of its own on the shared database.
        func build(_ side: DiffSide, as runID: RunID, from source: DataSource, tasks: [TaskID], name: String) throws -> RunResult {
            var run = RunRequest(expectationsPath: side.expectations, pipelineDirectory: side.pipeline, reportsDirectory: "")
            run.runID = runID
            run.handsOverSchemas = true
            run.vars = request.vars
            run.tasks = tasks
            run.formats = []
            run.checkTimeoutMilliseconds = request.checkTimeoutMilliseconds
            let started = ContinuousClock.now
            defer { result.timings["build_" + name] = milliseconds(since: started) }
            return try Orchestrator.run(run, kind: .ephemeral(database: .server(target), source: source, keepSchemas: false),
                                        interrupts: interrupts, logger: logger, progress: { progress("\(name): " + $0) })
        }
        let building: [TaskID] = [.initializeETLEnvironment, .runDbtInitTasks, .runDbtModel, .runChecks]
        let headRun = try build(request.head, as: runs.head, from: source,
                                tasks: [.initializeETLEnvironment, .importMainData, .importResellerData] + building.dropFirst(), name: "head")
        let baseRun = try build(request.base, as: runs.base, from: .shared(schemas.head), tasks: building, name: "base")

        let started = ContinuousClock.now
        try PipelineDiff.compare(
            base: BuiltSide(runner: try PipelineRunner(project: baseProject, schemas: schemas.base, overrides: request.vars),
                            schemas: schemas.base, checks: baseRun.audit.checks, expectations: baseExpectations),
            head: BuiltSide(runner: try PipelineRunner(project: headProject, schemas: schemas.head, overrides: request.vars),
                            schemas: schemas.head, checks: headRun.audit.checks, expectations: headExpectations),
            connections: RunConnections(runID: runs.head, target: target), closedThrough: request.closedThrough,
            compareAll: request.compareAll,
            into: &result, progress: progress)
        result.timings["diff"] = milliseconds(since: started)
        result.timings["total"] = milliseconds(since: clock)
        if request.keepSchemas {
            progress("schemas kept: head \(schemas.head.base)_*, base \(schemas.base.base)_*")
        }
        let violations = request.policy.violations(of: result)
        let files = try DiffReports.write(result, violations: violations, policy: request.policy, to: request.reportsDirectory)
        return DiffOutcome(result: result, violations: violations, files: files)
    }
}
