/// Everything one audit produced: what every report is written from (results.json as EXPECTATIONS.md fixes it).
public struct AuditResult: Sendable, Codable {
    public var runID: String
    public var startedAt: String
    public var finishedAt: String
    public var database: String
    public var summary: CheckSummary
    public var checks: [CheckResult]
    public var stages: [StageTiming]
    /// The expectations file evaluated.
    public var expectations: String?
    /// The run's tasks: status, attempts, rows and time of each.
    public var tasks: [TaskRecord] = []
    /// A persistent run's period (`recon run`).
    public var period: String?
    /// A persistent run's changed partitions of closed periods.
    public var restatements: [PartitionChange]?
    /// A persistent run's partitions written (changed, new or removed).
    public var partitionsReplaced: Int?
    /// Every waiver in force and what it covered (EXPECTATIONS.md "Waivers"); nil without waivers.
    public var waivers: [WaiverOutcome]?
    /// What the run was made of: tool, user, host, as_of, digests, inputs.
    public var evidence: Evidence?
    /// On a Citus cluster, where the run's distributed tables lie: shards, rows and bytes per node.
    public var placement: [NodePlacement]?

    enum CodingKeys: String, CodingKey {
        case summary, checks, stages, database, expectations, tasks, period, restatements, waivers, evidence, placement
        case partitionsReplaced = "partitions_replaced"
        case runID = "run_id"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }

    /// The exit code of DESIGN.md: 0 all error checks passed, 1 one failed (or warned, with
    /// `failOn: .warn`), 3 a check could not be evaluated; the highest wins.
    public func exitCode(failOn: Severity) -> Int32 {
        if summary.error > 0 { return 3 }
        if summary.fail > 0 || (failOn == .warn && summary.warn > 0) { return 1 }
        return 0
    }
}
