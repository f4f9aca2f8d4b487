/// A task's change of state, for live display.
public struct TaskEvent: Sendable {
    public var record: TaskRecord
    /// For a retry: the error that caused it and the wait before the next attempt.
    public var retryReason: String?
    public var backoffMS: Int?

    /// The event as one status line (`import_main_data: 62031 rows in 1204 ms`).
    public var line: String {
        let r = record
        let name = r.task.rawValue
        switch r.status {
        case .pending: return "\(name): pending"
        case .running: return "\(name): running" + (r.attempts > 1 ? " (attempt \(r.attempts))" : "")
        case .retrying:
            return "\(name): attempt \(r.attempts) failed (\(retryReason ?? "transient error")); retrying in \(backoffMS ?? 0) ms"
        case .succeeded:
            return "\(name): \(r.rows) \(r.task.unit) in \(r.durationMS) ms" + (r.attempts > 1 ? " (attempt \(r.attempts))" : "")
        case .failed: return "\(name): failed after \(r.attempts) attempt\(r.attempts == 1 ? "" : "s")"
        case .skipped: return "\(name): skipped (an earlier task failed)"
        }
    }
}
