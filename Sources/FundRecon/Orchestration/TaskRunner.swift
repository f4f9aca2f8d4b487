import Foundation
import Logging
import Postgres

/// Runs a DAG of tasks: each starts when its dependencies have succeeded, independent ones side by
/// side (up to `parallelism`), each on a thread and connections of its own; a transient failure
/// is retried with exponential backoff up to `maxAttempts`; a failed task skips everything after it.
public struct TaskRunner: Sendable {
    /// The run's database and session names.
    public var connections: RunConnections
    public var maxAttempts = 3
    /// The wait before the second attempt; doubled for each later one.
    public var backoffMS = 500
    public var parallelism = 2
    public var faults = FaultPlan()

    /// A runner for the run's connections, with the faults the environment asks for.
    public init(connections: RunConnections, faults: FaultPlan = .fromEnvironment()) {
        self.connections = connections
        self.faults = faults
    }

    /// What a run of tasks gave: every task's record, in the order given, and their outputs.
    public struct Outcome: Sendable {
        public var records: [TaskRecord]
        public var outputs: RunOutputs
    }

    /// Runs the tasks, reporting every change of state to `observe`; throws `TaskFailure` for the
    /// first task that failed for good (after the tasks running beside it have ended).
    public func run(_ tasks: [RunTask], logger: Logger, progress: @escaping @Sendable (String) -> Void = { _ in },
                    observe: @escaping @Sendable (TaskEvent) -> Void) throws -> Outcome {
        let graph = Locked(try TaskGraph(tasks))
        let condition = NSCondition()
        condition.lock()
        while true {
            while graph.value.running.count < parallelism, let task = graph.value.nextReady() {
                graph.value.start(task.id)
                let inputs = graph.value.outputs
                let runner = self
                // A thread of its own: a task blocks on PostgreSQL for seconds or minutes, and a
                // shared pool busy elsewhere would quietly run "parallel" tasks one by one.
                let thread = Thread {
                    let (record, outcome) = runner.attempts(of: task, inputs: inputs, logger: logger, progress: progress,
                                                            observe: observe)
                    condition.lock()
                    graph.value.finish(task.id, record: record, outcome: outcome)
                    condition.signal()
                    condition.unlock()
                }
                thread.name = "recon-" + task.id.rawValue
                thread.start()
            }
            if graph.value.isFinished { break }
            condition.wait()
        }
        condition.unlock()
        for record in graph.value.skipRemaining() { observe(TaskEvent(record: record)) }
        let records = graph.value.orderedRecords
        if let (task, error) = graph.value.failure {
            throw TaskFailure(task: task, underlying: error, records: records, outputs: graph.value.outputs)
        }
        return Outcome(records: records, outputs: graph.value.outputs)
    }

    /// One task's attempts, retried while the failure is transient.
    func attempts(of task: RunTask, inputs: RunOutputs, logger: Logger, progress: @escaping @Sendable (String) -> Void,
                  observe: @Sendable (TaskEvent) -> Void) -> (TaskRecord, Result<TaskOutput, any Error>) {
        let clock = ContinuousClock.now
        var record = TaskRecord(pending: task.id)
        record.startedAt = isoTimestamp(Date())
        while true {
            record.attempts += 1
            record.status = .running
            observe(TaskEvent(record: record))
            let context = TaskContext(task: task.id, attempt: record.attempts, logger: logger, progress: progress,
                                      connections: connections, faults: faults)
            do {
                let output = try task.work(context, inputs)
                record.rows = output.count
                record.status = .succeeded
                record.durationMS = milliseconds(since: clock)
                record.finishedAt = isoTimestamp(Date())
                observe(TaskEvent(record: record))
                return (record, .success(output))
            } catch {
                if TaskRunner.isTransient(error) && record.attempts < maxAttempts {
                    let wait = backoffMS << (record.attempts - 1)
                    record.status = .retrying
                    record.error = "\(error)"
                    observe(TaskEvent(record: record, retryReason: TaskRunner.shortReason(error), backoffMS: wait))
                    Thread.sleep(forTimeInterval: Double(wait) / 1000)
                    continue
                }
                record.status = .failed
                record.error = "\(error)"
                record.durationMS = milliseconds(since: clock)
                record.finishedAt = isoTimestamp(Date())
                observe(TaskEvent(record: record))
                return (record, .failure(error))
            }
        }
    }

    /// Lost connections, serialization failures and deadlocks: worth another attempt, whether
    /// PostgreSQL's error reached the task as it is or inside a model's failure.
    static func isTransient(_ error: any Error) -> Bool {
        if let error = error as? PostgresError { return error.isTransient }
        if let failure = error as? ModelFailure { return failure.isTransient }
        return false
    }

    static func shortReason(_ error: any Error) -> String {
        String("\(error)".split(separator: "\n").first ?? "")
    }
}

/// A value guarded by the runner's condition lock: read and written only with it held.
private final class Locked<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
