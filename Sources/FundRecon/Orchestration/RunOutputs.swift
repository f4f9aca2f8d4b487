import Foundation

/// What the tasks of a run produced, filled in as each one ends: a task reads what the tasks it
/// depends on recorded (they ended before it began), and the run's result is built from it once
/// every task has ended.
public struct RunOutputs: Sendable {
    /// The dataset the imports read.
    public private(set) var dataset: Dataset?
    /// Each import's load report.
    public private(set) var loads: [TaskID: LoadReport] = [:]
    /// Each build task's outcome.
    public private(set) var builds: [TaskID: BuildOutcome] = [:]
    /// The check results (empty until `run_checks` ends).
    public private(set) var checks: [CheckResult] = []
    /// The instant the checks judged freshness at.
    public private(set) var asOf: Date?
    /// The golden snapshot of the ADS tables.
    public private(set) var snapshots: [TableSnapshot] = []
    /// What `write_reports` gathered for the reports.
    public private(set) var reportInputs: ReportInputs?

    public init() {}

    /// Records a task's output.
    public mutating func record(_ output: TaskOutput, of task: TaskID) {
        switch output {
        case .prepared(let dataset): self.dataset = dataset
        case .loaded(let report): loads[task] = report
        case .built(let outcome): builds[task] = outcome
        case .checked(let results, let instant):
            checks = results
            asOf = instant
        case .snapshots(let tables): snapshots = tables
        case .reportInputs(let inputs): reportInputs = inputs
        }
    }

    /// Every import's files, in task order (extracts before files).
    public var load: LoadReport {
        var merged = LoadReport()
        for task in loads.keys.sorted() {
            merged.files += loads[task]?.files ?? []
            merged.reloaded += loads[task]?.reloaded ?? []
            merged.ignored += loads[task]?.ignored ?? []
        }
        return merged
    }

    /// Every build task's seeds and models, in build order.
    public var build: BuildReport {
        var merged = BuildReport()
        for task in builds.keys.sorted() {
            guard let report = builds[task]?.report else { continue }
            merged.models += report.models
            merged.statements += report.statements
            merged.vars.merge(report.vars) { $1 }
        }
        return merged
    }

    /// The partitions the build tasks published.
    public var published: [PartitionChange] { builds.keys.sorted().flatMap { builds[$0]?.published ?? [] } }
}
