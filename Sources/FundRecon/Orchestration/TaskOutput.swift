import Foundation

/// What one task returns: the typed result of its work, recorded in the run's `RunOutputs`.
public enum TaskOutput: Sendable {
    /// `initialize_etl_environment`: the dataset the imports read, when the run has one.
    case prepared(Dataset?)
    /// An import: per file, what was read, loaded and rejected.
    case loaded(LoadReport)
    /// A build task.
    case built(BuildOutcome)
    /// `run_checks`: every check's result.
    case checked([CheckResult], asOf: Date?)
    /// `snapshot_outputs`: the ADS tables as sorted rows.
    case snapshots([TableSnapshot])
    /// `write_reports`: what the reports show besides the check results.
    case reportInputs(ReportInputs)

    /// The count the task's record shows (`TaskID.unit`).
    public var count: Int {
        switch self {
        case .prepared(let dataset): return dataset?.generated?.rows.values.reduce(0, +) ?? 0
        case .loaded(let report): return report.files.reduce(0) { $0 + $1.rowsLoaded }
        case .built(let outcome): return outcome.rows
        case .checked(let results, _): return results.count
        case .snapshots(let tables): return tables.reduce(0) { $0 + $1.rows.count }
        case .reportInputs(let inputs): return inputs.figures?.rowCount ?? 0
        }
    }
}
