/// One task of a run: its id, the tasks it waits for, and its work, which reads the outputs of
/// the tasks before it and returns its own. A task that may be retried must leave nothing behind
/// when an attempt fails (imports and builds do their work in one transaction).
public struct RunTask: Sendable {
    public let id: TaskID
    public let dependsOn: [TaskID]
    public let work: @Sendable (TaskContext, RunOutputs) throws -> TaskOutput

    public init(_ id: TaskID, after dependsOn: [TaskID], work: @escaping @Sendable (TaskContext, RunOutputs) throws -> TaskOutput) {
        self.id = id
        self.dependsOn = dependsOn
        self.work = work
    }
}
