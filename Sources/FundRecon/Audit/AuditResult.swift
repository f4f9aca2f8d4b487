import Foundation

/// A report file kind (`--format`).
public enum ReportFormat: String, Sendable, CaseIterable {
    case html, xlsx, junit, json
}

/// One stage of a run, with its rows and time.
public struct StageTiming: Sendable, Codable {
    public var name: String
    public var rows: Int
    public var durationMS: Int

    enum CodingKeys: String, CodingKey {
        case name, rows
        case durationMS = "duration_ms"
    }

    public init(name: String, rows: Int, durationMS: Int) {
        self.name = name
        self.rows = rows
        self.durationMS = durationMS
    }

    /// A task's timing.
    public init(_ task: TaskRecord) {
        self.init(name: task.name, rows: task.rows, durationMS: task.durationMS)
    }
}

/// Counts of checks by status.
public struct CheckSummary: Sendable, Codable, Equatable {
    public var checks = 0
    public var pass = 0
    public var warn = 0
    public var fail = 0
    public var error = 0

    public init(_ results: [CheckResult]) {
        checks = results.count
        for result in results {
            switch result.status {
            case .pass: pass += 1
            case .warn: warn += 1
            case .fail: fail += 1
            case .error: error += 1
            }
        }
    }
}

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

    enum CodingKeys: String, CodingKey {
        case summary, checks, stages, database, expectations, tasks, period, restatements
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

/// ISO 8601 UTC text of an instant.
func isoTimestamp(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: date)
}
