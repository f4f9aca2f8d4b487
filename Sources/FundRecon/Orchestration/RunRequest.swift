import Postgres

import Foundation

/// What every kind of run is asked for: the files it reads, the tasks it does, the reports it writes.
public struct RunRequest: Sendable {
    /// The expectations file (read when `run_checks` is among the tasks).
    public var expectationsPath: String
    /// The pipeline folder; nil when the run builds nothing and names tables as they are (`recon check`).
    public var pipelineDirectory: String?
    /// Where the reports go.
    public var reportsDirectory: String
    /// Overrides of the project's vars (`business_timezone` ...).
    public var vars: [String: String] = [:]
    /// Only checks with one of these tags (all when empty).
    public var tags: Set<String> = []
    /// A waivers file (`--waivers`), beside the expectations file's own `waivers:`.
    public var waiversPath: String?
    /// The statement timeout of each check.
    public var checkTimeoutMilliseconds = 60_000
    /// The report files to write.
    public var formats: Set<ReportFormat> = Set(ReportFormat.defaults)
    /// The tasks to run (the seed's DAG unless told otherwise).
    public var tasks: [TaskID] = TaskID.seed
    /// The month (YYYY-MM) of a monthly finance pack.
    public var month: String?
    /// The instant freshness is judged against (default: each kind of run's own).
    public var asOf: Date?
    /// Who the checks log in as (a role created for the run by default).
    public var checkRole: CheckRoleChoice = .automatic
    /// The run's id: a new one unless given (`recon diff` names its two runs before they start).
    public var runID: RunID?
    /// The caller works on the run's schemas after it and drops them itself (`recon diff`, golden):
    /// they outlive the run, marked kept so `recon gc` leaves them meanwhile, without the notice a
    /// user's `--keep-schemas` gets; a generated dataset is still removed with the run.
    public var handsOverSchemas = false
    /// Keep every model statement in the build report (`recon build --emit-sql`).
    public var recordStatements = false

    public init(expectationsPath: String, pipelineDirectory: String?, reportsDirectory: String) {
        self.expectationsPath = expectationsPath
        self.pipelineDirectory = pipelineDirectory
        self.reportsDirectory = reportsDirectory
    }
}

/// Which kind of run to open.
public enum RunKind: Sendable {
    /// A run's own schemas on the embedded default or a server, dropped at the end unless kept.
    case ephemeral(database: DatabaseChoice, source: DataSource, keepSchemas: Bool)
    /// Tables that exist already: a run kept with `--keep-schemas`, a persistent warehouse's
    /// published tables, or names taken as written.
    case existing(target: ConnectionTarget, tables: ExistingSource)
    /// One period of a persistent warehouse (`recon run`).
    case period(PeriodRunOptions)
}

/// Whose tables an `existing` run reads.
public enum ExistingSource: Sendable, Equatable {
    /// Table names as the expectations file writes them (`recon check` of any warehouse).
    case asWritten
    /// The schemas of a run kept with `--keep-schemas`.
    case keptRun(RunID)
    /// A persistent warehouse's published schemas (`<prefix>_<layer>`), read for one month: its
    /// pack regenerated (after a sign-off, say) without building anything.
    case warehouse(prefix: String, month: Period)
}

/// What a run gave: its result, what every task produced, and the report files written.
public struct RunResult: Sendable {
    public var audit: AuditResult
    public var outputs: RunOutputs
    public var reportFiles: [String]
}
