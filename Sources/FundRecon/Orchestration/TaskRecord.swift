/// How a task ended (or where it stands).
public enum TaskStatus: String, Sendable, Codable {
    case pending, running, retrying, succeeded, failed, skipped
}

/// One task's record: status, attempts, rows and time (shown live, written to results.json and
/// to `recon_meta.task_runs`).
public struct TaskRecord: Sendable, Codable, Equatable {
    public var task: TaskID
    public var status: TaskStatus
    public var attempts: Int
    /// What the task counted (`task.unit`): rows loaded or built, checks evaluated.
    public var rows: Int
    public var startedAt: String?
    public var finishedAt: String?
    public var durationMS: Int
    public var error: String?

    /// A task that has not started.
    public init(pending task: TaskID) {
        self.task = task
        status = .pending
        attempts = 0
        rows = 0
        durationMS = 0
    }

    enum CodingKeys: String, CodingKey {
        case status, attempts, rows, error
        case task = "name"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case durationMS = "duration_ms"
    }
}
