import Foundation
import Postgres

/// Tables that exist already: the schemas of a run kept with `--keep-schemas`, or, with no run,
/// table names taken as written (`recon check` of any warehouse, one built by dbt or by hand).
/// Nothing is loaded or built; the checks and the reports run as in every other run.
final class ExistingTables: RunMode {
    let connections: RunConnections
    let warehouse: RunSchemas?
    let databaseName: String
    let setupStages: [StageTiming] = []
    let supportedTasks: Set<TaskID> = [.runChecks, .snapshotOutputs, .writeReports]
    private let keptRun: RunID?
    private let plan: RunPlan
    private let interrupts: Interrupts?
    private let registration: Int?

    init(target: ConnectionTarget, keptRun: RunID?, plan: RunPlan, interrupts: Interrupts?) throws {
        connections = RunConnections(runID: keptRun ?? .generate(), target: target)
        warehouse = keptRun.map { RunSchemas(runID: $0) }
        databaseName = target.description
        self.keptRun = keptRun
        self.plan = plan
        self.interrupts = interrupts
        let connection = try connections.connect("session")
        if let warehouse {
            let present: Int = try connection.query(
                "SELECT count(*) FROM pg_namespace WHERE nspname = ANY(string_to_array(\(warehouse.all.joined(separator: ",")), ','))"
            ).scalar()
            guard present == Layer.allCases.count else {
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

    func checkSettings(on connection: Connection) throws -> CheckSettings {
        CheckSettings(scope: nil, asOf: plan.request.asOf ?? Date())
    }

    func describe(on connection: Connection) throws -> ReportContext {
        ReportContext(dataset: keptRun.map { "kept run \($0)" } ?? "")
    }

    func finish(_ result: AuditResult, outputs: RunOutputs) throws {}

    func fail(_ failure: TaskFailure) {}

    func close() {
        if let registration { interrupts?.remove(registration) }
    }
}
