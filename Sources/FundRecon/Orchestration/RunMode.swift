import Foundation
import Postgres

/// One kind of run. The orchestration (`Orchestrator`) is shared: the DAG, retries, task records,
/// interrupts, the result and the reports. A mode supplies only what differs between kinds of
/// runs: where the data comes from, where the build goes and what it publishes, how the checks
/// are scoped and judged, what the reports say the run was, and what the history keeps.
///
/// A mode is opened before the run's tasks and closed after them. Its methods are called from the
/// tasks' threads, each with the task's own context and connections; what a mode holds open (a
/// database, a session holding a lock) is touched only when it opens and by `close()`.
public protocol RunMode: AnyObject, Sendable {
    /// The run's id and how its connections are made.
    var connections: RunConnections { get }
    /// The schemas the checks, snapshots and reports read; nil when table names are taken as
    /// written (`recon check` of qualified tables).
    var warehouse: RunSchemas? { get }
    /// Schemas the checks read through the warehouse's views beyond the warehouse's own: another
    /// run's sources that this run shares (`recon diff`'s second build). On Citus a view's
    /// distributed table is read on the workers as the checks' role, which needs SELECT on it too.
    var sharedSchemas: [String] { get }
    /// The database as results.json shows it (`embedded`, or the target with its password masked).
    var databaseName: String { get }
    /// What opening the run took, before its tasks (the embedded cluster's start).
    var setupStages: [StageTiming] { get }
    /// The persistent warehouse's period, for the modes that have one.
    var period: Period? { get }
    /// The tasks this kind of run can do.
    var supportedTasks: Set<TaskID> { get }

    /// `initialize_etl_environment`: makes the schemas and source tables; returns the dataset
    /// the imports read, when the run has one.
    func prepare(_ context: TaskContext) throws -> Dataset?
    /// An import: loads one part of the sources.
    func load(_ part: IngestPart, from dataset: Dataset?, _ context: TaskContext) throws -> LoadReport
    /// A build task (`run_dbt_init_tasks` or `run_dbt_model`); `outputs` holds what ran before it.
    func build(_ task: TaskID, after outputs: RunOutputs, _ context: TaskContext) throws -> BuildOutcome
    /// How the checks are judged: the period they are scoped to, the instant freshness is judged at.
    func checkSettings(on connection: Connection) throws -> CheckSettings
    /// What the reports say the run was (dataset, title, earlier outcomes of each check).
    func describe(on connection: Connection) throws -> ReportContext
    /// Judges the run as a whole once its tasks ended, before its reports are written (a
    /// persistent warehouse fails a run that changed a signed month).
    func judge(_ result: inout AuditResult, outputs: RunOutputs) throws
    /// Records the run's end where this kind of run keeps history.
    func finish(_ result: AuditResult, outputs: RunOutputs) throws
    /// Records a run that stopped at a failed task.
    func fail(_ failure: TaskFailure)
    /// Releases what the run holds: its schemas (unless kept), locks, the embedded database.
    func close()
}

extension RunMode {
    public var sharedSchemas: [String] { [] }
}

/// How a run's checks are judged.
public struct CheckSettings: Sendable {
    /// The period scoped checks see (a persistent run's), or nil: every row.
    public var scope: CheckScope?
    /// The instant freshness is judged against.
    public var asOf: Date

    public init(scope: CheckScope?, asOf: Date) {
        self.scope = scope
        self.asOf = asOf
    }
}

extension RunMode {
    public var period: Period? { nil }
    public func judge(_ result: inout AuditResult, outputs: RunOutputs) throws {}
}
