/// The tasks a run is made of: the seed's Airflow task names, plus the golden snapshot. Their
/// dependencies are declared here once; the runner, `recon dag` and the Airflow export read them.
public enum TaskID: String, CaseIterable, Sendable, Codable, Comparable {
    case initializeETLEnvironment = "initialize_etl_environment"
    case importMainData = "import_main_data"
    case importResellerData = "import_reseller_data"
    case runDbtInitTasks = "run_dbt_init_tasks"
    case runDbtModel = "run_dbt_model"
    case runChecks = "run_checks"
    case snapshotOutputs = "snapshot_outputs"
    case writeReports = "write_reports"

    /// The seed's DAG in dependency order: what a run does unless told otherwise.
    public static let seed: [TaskID] = [
        .initializeETLEnvironment, .importMainData, .importResellerData, .runDbtInitTasks, .runDbtModel, .runChecks,
        .writeReports,
    ]

    /// The tasks this one waits for. The two imports run side by side; the rest in a line.
    public var dependencies: [TaskID] {
        switch self {
        case .initializeETLEnvironment: return []
        case .importMainData, .importResellerData: return [.initializeETLEnvironment]
        case .runDbtInitTasks: return [.importMainData, .importResellerData]
        case .runDbtModel: return [.runDbtInitTasks]
        case .runChecks, .snapshotOutputs: return [.runDbtModel]
        case .writeReports: return [.runChecks]
        }
    }

    /// What the task does, in one line (`recon dag`).
    public var summary: String {
        switch self {
        case .initializeETLEnvironment:
            return "the run's schemas rc_<runid>_oltp|ods|dwd|dws|ads and source tables (recon run: the warehouse's own); "
                + "a generated dataset is written here"
        case .importMainData: return "OLTP extracts -> oltp, ods_* (recon run: the rows after each extract's watermark)"
        case .importResellerData: return "reseller, Stripe and Adyen files -> ods_* (recon run: files due and not loaded before)"
        case .runDbtInitTasks: return "seeds and ODS-layer models"
        case .runDbtModel: return "DWD, DWS and ADS models (recon run: built in staging, changed partitions published)"
        case .runChecks: return "every check of the expectations file (recon run: scoped to the period)"
        case .snapshotOutputs: return "every ADS table, sorted, for golden regression (recon golden only)"
        case .writeReports:
            return "the figures the reports show; HTML, XLSX and JUnit are written from them once every task has ended "
                + "(results.json is written by every run)"
        }
    }

    /// What the count in the task's record means.
    public var unit: String {
        switch self {
        case .runChecks: return "checks"
        case .snapshotOutputs, .writeReports: return "figure rows"
        default: return "rows"
        }
    }

    /// The tasks `self` waits for when only `selected` run: every selected task it depends on,
    /// directly or through tasks left out (`--tasks import_main_data,run_dbt_model` still builds
    /// after the import).
    public func dependencies(among selected: Set<TaskID>) -> [TaskID] {
        var found: Set<TaskID> = []
        var pending = dependencies
        var seen: Set<TaskID> = []
        while let next = pending.popLast() {
            guard seen.insert(next).inserted else { continue }
            if selected.contains(next) { found.insert(next) } else { pending += next.dependencies }
        }
        return found.sorted()
    }

    /// Declaration order, which is dependency order.
    public static func < (lhs: TaskID, rhs: TaskID) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
