import Foundation
import Postgres

/// Tables that exist already: the schemas of a run kept with `--keep-schemas`, a persistent
/// warehouse's published schemas for one month (its pack regenerated without a build), or table
/// names taken as written (`recon check` of any warehouse, one built by dbt or by hand). Nothing
/// is loaded, built or recorded; the checks and the reports run as in every other run.
final class ExistingTables: RunMode {
    let connections: RunConnections
    let warehouse: RunSchemas?
    let databaseName: String
    let setupStages: [StageTiming] = []
    let supportedTasks: Set<TaskID> = [.runChecks, .snapshotOutputs, .writeReports]
    let period: Period?
    private let tables: ExistingSource
    private let plan: RunPlan
    private let interrupts: Interrupts?
    private let registration: Int?

    init(target: ConnectionTarget, tables: ExistingSource, plan: RunPlan, interrupts: Interrupts?) throws {
        switch tables {
        case .asWritten:
            (connections, warehouse, period) = (RunConnections(runID: .generate(), target: target), nil, nil)
        case .keptRun(let runID):
            (connections, warehouse, period) = (RunConnections(runID: runID, target: target), RunSchemas(runID: runID), nil)
        case .warehouse(let prefix, let month):
            (connections, warehouse, period) = (RunConnections(runID: .generate(), target: target), RunSchemas(prefix: prefix), month)
        }
        databaseName = target.description
        self.tables = tables
        self.plan = plan
        self.interrupts = interrupts
        let connection = try connections.connect("session")
        if let warehouse {
            let present: Int = try connection.query(
                "SELECT count(*) FROM pg_namespace WHERE nspname = ANY(\(texts: warehouse.all))"
            ).scalar()
            guard present == Layer.allCases.count else {
                if case .warehouse(let prefix, _) = tables {
                    throw RuntimeFailure(cause: "there is no warehouse '\(prefix)' on \(databaseName) (schemas \(prefix)_oltp ... \(prefix)_ads)",
                                         fix: "check --schema-prefix and --db, or build it with `recon run --schema-prefix \(prefix)`")
                }
                throw RuntimeFailure(cause: "run \(connections.runID) has no kept schemas on \(databaseName)",
                                     fix: "audit with the schemas kept on this server first, or build the month from a dataset")
            }
        }
        // Nothing to drop, but the run's sessions (a check mid-statement) end with it.
        let connections = connections
        registration = interrupts?.register {
            guard let cleanup = try? Connection(connections.target, applicationName: "recon-cleanup") else { return }
            try? connections.terminateSessions(from: cleanup)
        }
    }

    func prepare(_ context: TaskContext) throws -> Dataset? { nil }

    func load(_ part: IngestPart, from dataset: Dataset?, _ context: TaskContext) throws -> LoadReport { LoadReport() }

    func build(_ task: TaskID, after outputs: RunOutputs, _ context: TaskContext) throws -> BuildOutcome {
        BuildOutcome(report: BuildReport())
    }

    /// A warehouse's month is checked as `recon run` checks it: scoped to the month, freshness
    /// judged at its end.
    func checkSettings(on connection: Connection) throws -> CheckSettings {
        guard let period else { return CheckSettings(scope: nil, asOf: plan.request.asOf ?? Date()) }
        let end = try period.instants(zone: plan.zone, connection: connection).end
        return CheckSettings(scope: CheckScope(period: period, zone: plan.zone), asOf: plan.request.asOf ?? end)
    }

    func describe(on connection: Connection) throws -> ReportContext {
        switch tables {
        case .asWritten: return ReportContext(dataset: "")
        case .keptRun(let runID): return ReportContext(dataset: "kept run \(runID)")
        case .warehouse(let prefix, let month):
            return try PeriodRun.describe(prefix: prefix, period: month,
                                          dataset: "warehouse \(prefix), month \(month), its published tables (nothing built)", on: connection)
        }
    }

    func finish(_ result: AuditResult, outputs: RunOutputs) throws {}

    func fail(_ failure: TaskFailure) {}

    func close() {
        if let registration { interrupts?.remove(registration) }
    }
}
