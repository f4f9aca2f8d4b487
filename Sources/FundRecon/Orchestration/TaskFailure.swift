/// The task that failed for good, with its error; the records tell what the other tasks did.
public struct TaskFailure: Error, CustomStringConvertible {
    public var task: TaskID
    public var underlying: any Error
    public var records: [TaskRecord]
    /// What the tasks that succeeded produced.
    public var outputs: RunOutputs

    public var description: String { "task \(task.rawValue) failed: \(underlying)" }
}
