/// A list of tasks that cannot run: a task named twice, waiting for a task not in the list, or
/// tasks waiting for each other. A fault of the program, not of the input (exit code 3).
public struct TaskGraphError: ReconError, Sendable {
    public var message: String
    public var failureClass: FailureClass { .runtime }
    public var description: String { "task graph: \(message)" }
}

/// The scheduler's bookkeeping, apart from threads and connections: which task may start next,
/// what each ended with, what is skipped after a failure. The runner drives it under its lock.
struct TaskGraph {
    let tasks: [RunTask]
    private(set) var records: [TaskID: TaskRecord] = [:]
    private(set) var outputs = RunOutputs()
    private(set) var running: Set<TaskID> = []
    /// The first task that failed for good, and its error.
    private(set) var failure: (task: TaskID, error: any Error)?

    /// A graph of `tasks`, checked: no task twice, every dependency present, no cycle.
    init(_ tasks: [RunTask]) throws {
        var ids: Set<TaskID> = []
        for task in tasks where !ids.insert(task.id).inserted {
            throw TaskGraphError(message: "task \(task.id.rawValue) is listed twice")
        }
        for task in tasks {
            for dependency in task.dependsOn where !ids.contains(dependency) {
                throw TaskGraphError(message: "task \(task.id.rawValue) depends on \(dependency.rawValue), which is not in the run")
            }
        }
        var done: Set<TaskID> = []
        while done.count < tasks.count {
            let ready = tasks.filter { !done.contains($0.id) && $0.dependsOn.allSatisfy(done.contains) }
            guard !ready.isEmpty else {
                let left = tasks.map(\.id).filter { !done.contains($0) }.map(\.rawValue)
                throw TaskGraphError(message: "tasks wait for each other in a cycle: \(left.joined(separator: ", "))")
            }
            done.formUnion(ready.map(\.id))
        }
        self.tasks = tasks
        for task in tasks { records[task.id] = TaskRecord(pending: task.id) }
    }

    /// The first pending task whose dependencies all succeeded; none once a task has failed.
    func nextReady() -> RunTask? {
        guard failure == nil else { return nil }
        return tasks.first { task in
            records[task.id]?.status == .pending && task.dependsOn.allSatisfy { records[$0]?.status == .succeeded }
        }
    }

    /// True when nothing runs and nothing more can start.
    var isFinished: Bool { running.isEmpty && nextReady() == nil }

    mutating func start(_ task: TaskID) {
        records[task]?.status = .running
        running.insert(task)
    }

    /// Records how a task ended: its output joins the run's outputs, or its error stops the run.
    mutating func finish(_ task: TaskID, record: TaskRecord, outcome: Result<TaskOutput, any Error>) {
        running.remove(task)
        records[task] = record
        switch outcome {
        case .success(let output): outputs.record(output, of: task)
        case .failure(let error): if failure == nil { failure = (task, error) }
        }
    }

    /// Marks every task that never started as skipped; returns their records.
    mutating func skipRemaining() -> [TaskRecord] {
        var skipped: [TaskRecord] = []
        for task in tasks where records[task.id]?.status == .pending {
            records[task.id]?.status = .skipped
            if let record = records[task.id] { skipped.append(record) }
        }
        return skipped
    }

    /// Every task's record, in the order the tasks were given.
    var orderedRecords: [TaskRecord] { tasks.compactMap { records[$0.id] } }
}
