import Foundation
import Logging
import Postgres

/// The seed's Airflow task names, plus the two FundRecon adds; a run is a DAG of these.
public enum TaskName {
    public static let initialize = "initialize_etl_environment"
    public static let importMain = "import_main_data"
    public static let importResellers = "import_reseller_data"
    public static let dbtInit = "run_dbt_init_tasks"
    public static let dbtModel = "run_dbt_model"
    public static let checks = "run_checks"
    public static let reports = "write_reports"

    /// Every task in dependency order.
    public static let all = [initialize, importMain, importResellers, dbtInit, dbtModel, checks, reports]

    /// The tasks `name` waits for when only `selected` run: every selected task it depends on,
    /// directly or through tasks left out (`--tasks import_main_data,run_dbt_model` still builds
    /// after the import).
    public static func dependencies(of name: String, among selected: Set<String>) -> [String] {
        var found: [String] = []
        var pending = dependencies[name] ?? []
        var seen: Set<String> = []
        while let next = pending.popLast() {
            guard seen.insert(next).inserted else { continue }
            if selected.contains(next) { found.append(next) } else { pending += dependencies[next] ?? [] }
        }
        return all.filter(found.contains)
    }

    /// The run's DAG: the two imports run side by side, everything else in a line.
    public static let dependencies: [String: [String]] = [
        initialize: [],
        importMain: [initialize],
        importResellers: [initialize],
        dbtInit: [importMain, importResellers],
        dbtModel: [dbtInit],
        checks: [dbtModel],
        reports: [checks],
    ]
}

/// One task of a run: a name, the tasks it waits for, and its work, which returns the rows it
/// touched. A task that may be retried must leave nothing behind when an attempt fails (the
/// imports and builds do their work in one transaction).
public struct RunTask: Sendable {
    public let name: String
    public let dependsOn: [String]
    public let body: @Sendable (TaskContext) throws -> Int

    public init(_ name: String, after dependsOn: [String] = [], body: @escaping @Sendable (TaskContext) throws -> Int) {
        self.name = name
        self.dependsOn = dependsOn
        self.body = body
    }
}

/// What a task attempt gets: its own connections to the run's database, and the fault hook.
/// A connection closes when the attempt's body lets go of it.
public struct TaskContext: Sendable {
    public let task: String
    public let attempt: Int
    public let logger: Logger
    let target: ConnectionTarget
    let faults: FaultPlan
    let applicationName: String

    /// A connection of this attempt's own (tasks running side by side never share one).
    public func connect() throws -> Connection {
        try ConnectionProblem.connect(target, applicationName: applicationName)
    }

    /// Called by a task just before it commits: where injected faults strike (`RECON_INJECT_FAULT`
    /// ends the session from the server side, a real lost connection; `RECON_INJECT_PAUSE` waits,
    /// so a test can kill the process with the task's work written but not committed).
    public func checkpoint(_ connection: Connection) throws {
        if let seconds = faults.pause[task] {
            FileHandle.standardError.write(Data("recon: paused in \(task) before commit (pid \(getpid()))\n".utf8))
            Thread.sleep(forTimeInterval: seconds)
        }
        if attempt <= faults.failures[task] ?? 0 {
            logger.warning("\(task): injected fault on attempt \(attempt): terminating this task's session")
            try connection.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        }
    }

    /// Runs `body` in one transaction on a connection of the task's own (or `connection`), with
    /// the fault checkpoint just before the commit: an attempt that fails leaves nothing behind.
    public func inTransaction<T>(on connection: Connection? = nil, _ body: (Connection) throws -> T) throws -> T {
        let connection = try connection ?? connect()
        return try connection.transaction { connection in
            let value = try body(connection)
            try checkpoint(connection)
            return value
        }
    }
}

/// Faults to inject, for tests of retries and crash safety: `RECON_INJECT_FAULT=task:N` fails the
/// task's first N attempts with a lost connection; `RECON_INJECT_PAUSE=task:SECONDS` pauses it
/// before its commit.
public struct FaultPlan: Sendable {
    public var failures: [String: Int] = [:]
    public var pause: [String: Double] = [:]

    public init(failures: [String: Int] = [:], pause: [String: Double] = [:]) {
        self.failures = failures
        self.pause = pause
    }

    /// The plan the environment asks for (empty when neither variable is set).
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> FaultPlan {
        func pairs(_ text: String?) -> [(String, String)] {
            (text ?? "").split(separator: ",").compactMap { item in
                let parts = item.split(separator: ":", maxSplits: 1).map(String.init)
                return parts.count == 2 ? (parts[0], parts[1]) : nil
            }
        }
        var plan = FaultPlan()
        for (task, count) in pairs(environment["RECON_INJECT_FAULT"]) { plan.failures[task] = Int(count) ?? 1 }
        for (task, seconds) in pairs(environment["RECON_INJECT_PAUSE"]) { plan.pause[task] = Double(seconds) ?? 3600 }
        return plan
    }
}

/// How a task ended.
public enum TaskStatus: String, Sendable, Codable {
    case pending, running, retrying, succeeded, failed, skipped
}

/// One task's record: status, attempts, rows and time (shown live, written to results.json and
/// to `recon_meta.task_runs`).
public struct TaskRecord: Sendable, Codable {
    public var name: String
    public var status: TaskStatus
    public var attempts: Int
    public var rows: Int
    public var startedAt: String?
    public var finishedAt: String?
    public var durationMS: Int
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case name, status, attempts, rows, error
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case durationMS = "duration_ms"
    }
}

/// A task's change of state, for live display.
public struct TaskEvent: Sendable {
    public var record: TaskRecord
    /// For a retry: the error that caused it and the wait before the next attempt.
    public var retryReason: String?
    public var backoffMS: Int?

    /// The event as one status line (`import_main_data: 62,031 rows in 1,204 ms`).
    public var line: String {
        let r = record
        switch r.status {
        case .pending: return "\(r.name): pending"
        case .running: return "\(r.name): running" + (r.attempts > 1 ? " (attempt \(r.attempts))" : "")
        case .retrying:
            return "\(r.name): attempt \(r.attempts) failed (\(retryReason ?? "transient error")); retrying in \(backoffMS ?? 0) ms"
        case .succeeded:
            // What a task counts: checks evaluated, report files written, rows everywhere else.
            let unit = r.name == TaskName.checks ? "checks" : r.name == TaskName.reports ? "files" : "rows"
            return "\(r.name): \(r.rows) \(unit) in \(r.durationMS) ms" + (r.attempts > 1 ? " (attempt \(r.attempts))" : "")
        case .failed: return "\(r.name): failed after \(r.attempts) attempt\(r.attempts == 1 ? "" : "s")"
        case .skipped: return "\(r.name): skipped (an earlier task failed)"
        }
    }
}

/// A value handed to tasks running on other threads; whoever shares it keeps the access ordered
/// (the DAG does: a task reads what the tasks it depends on wrote, after they finished).
public final class Shared<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    public init(_ value: Value) { stored = value }

    public var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }

    /// Changes the value under the lock.
    public func update(_ body: (inout Value) -> Void) { lock.withLock { body(&stored) } }
}

/// The task that failed, with its error; the other tasks' records tell what ran.
public struct TaskFailure: Error, CustomStringConvertible {
    public var task: String
    public var underlying: Error
    public var records: [TaskRecord]

    public var description: String { "task \(task) failed: \(underlying)" }
}

/// Runs a DAG of tasks: each starts when its dependencies have succeeded, independent ones side by
/// side (up to `parallelism`), a transient PostgreSQL failure is retried with exponential backoff
/// up to `maxAttempts`, and a failed task skips everything after it.
public struct TaskRunner: Sendable {
    public var target: ConnectionTarget
    public var maxAttempts = 3
    /// The wait before the second attempt; doubled for each later one.
    public var backoffMS = 500
    public var parallelism = 2
    public var faults = FaultPlan()
    /// Task sessions are named `<prefix>-<task>` in `pg_stat_activity` (the run's cleanup ends them by it).
    public var applicationPrefix = "recon"

    public init(target: ConnectionTarget) {
        self.target = target
    }

    /// The runner of one run: faults from the environment, sessions named after the run.
    public static func forRun(_ runID: RunID, target: ConnectionTarget) -> TaskRunner {
        var runner = TaskRunner(target: target)
        runner.faults = FaultPlan.fromEnvironment()
        runner.applicationPrefix = WarehouseRun.applicationPrefix(runID)
        return runner
    }

    /// Runs the tasks, printing each change of state through `progress` and collecting the
    /// records of the tasks finished so far in `finished` (the reports task reads them).
    public func run(_ tasks: [RunTask], logger: Logger, progress: @escaping @Sendable (String) -> Void,
                    finished: Shared<[TaskRecord]>) throws -> [TaskRecord] {
        try run(tasks, logger: logger) { event in
            if event.record.status != .pending { progress(event.line) }
            if event.record.status == .succeeded { finished.update { $0.append(event.record) } }
        }
    }

    /// Checks the DAG: every dependency names a task, and there is no cycle.
    public static func validate(_ tasks: [RunTask]) throws {
        let names = Set(tasks.map(\.name))
        for task in tasks {
            for dependency in task.dependsOn where !names.contains(dependency) {
                throw PipelineError(file: "task DAG", message: "task \(task.name) depends on unknown task \(dependency)")
            }
        }
        var done: Set<String> = []
        while done.count < tasks.count {
            let ready = tasks.filter { !done.contains($0.name) && $0.dependsOn.allSatisfy(done.contains) }
            guard !ready.isEmpty else {
                let left = tasks.map(\.name).filter { !done.contains($0) }
                throw PipelineError(file: "task DAG", message: "tasks depend on each other in a cycle: \(left.joined(separator: ", "))")
            }
            done.formUnion(ready.map(\.name))
        }
    }

    /// Runs every task; throws `TaskFailure` for the first task that failed for good.
    public func run(_ tasks: [RunTask], logger: Logger, observe: @escaping @Sendable (TaskEvent) -> Void) throws -> [TaskRecord] {
        try TaskRunner.validate(tasks)
        let state = DAGState(tasks)
        let condition = NSCondition()
        condition.lock()
        while true {
            if state.failure == nil {
                while state.running < parallelism, let task = state.nextReady() {
                    state.start(task.name)
                    let runner = self
                    // A thread of its own: a task blocks on PostgreSQL for seconds or minutes, and
                    // a shared pool busy elsewhere would quietly run "parallel" tasks one by one.
                    let thread = Thread {
                        let outcome = runner.attempts(of: task, logger: logger, observe: observe)
                        condition.lock()
                        state.finish(task.name, outcome)
                        condition.signal()
                        condition.unlock()
                    }
                    thread.name = "recon-" + task.name
                    thread.start()
                }
            }
            if state.running == 0 && (state.failure != nil || state.nextReady() == nil) { break }
            condition.wait()
        }
        condition.unlock()
        for name in state.skipAfterFailure() {
            observe(TaskEvent(record: state.records[name]!))
        }
        let records = tasks.map { state.records[$0.name]! }
        if let (task, error) = state.failure { throw TaskFailure(task: task, underlying: error, records: records) }
        return records
    }

    /// One task's attempts, retried while the failure is transient.
    func attempts(of task: RunTask, logger: Logger, observe: @Sendable (TaskEvent) -> Void) -> (TaskRecord, Error?) {
        let started = Date()
        let clock = ContinuousClock.now
        var record = TaskRecord(name: task.name, status: .running, attempts: 0, rows: 0, startedAt: isoTimestamp(started),
                                finishedAt: nil, durationMS: 0, error: nil)
        while true {
            record.attempts += 1
            record.status = .running
            observe(TaskEvent(record: record))
            let context = TaskContext(task: task.name, attempt: record.attempts, logger: logger, target: target, faults: faults,
                                      applicationName: applicationPrefix + "-" + task.name)
            do {
                record.rows = try task.body(context)
                record.status = .succeeded
                record.durationMS = milliseconds(since: clock)
                record.finishedAt = isoTimestamp(Date())
                observe(TaskEvent(record: record))
                return (record, nil)
            } catch {
                let transient = TaskRunner.isTransient(error)
                if transient && record.attempts < maxAttempts {
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
                return (record, error)
            }
        }
    }

    /// Lost connections, serialization failures and deadlocks: worth another attempt.
    static func isTransient(_ error: Error) -> Bool {
        if let error = error as? PostgresError { return error.isTransient }
        if let failure = error as? ModelFailure, let state = failure.sqlState { return PostgresError.isTransient(sqlState: state) }
        return false
    }

    static func shortReason(_ error: Error) -> String {
        let text = "\(error)"
        return String(text.split(separator: "\n").first ?? "")
    }
}

/// The scheduler's bookkeeping; only touched with the runner's condition lock held.
private final class DAGState: @unchecked Sendable {
    let tasks: [RunTask]
    var records: [String: TaskRecord] = [:]
    var running = 0
    var failure: (String, Error)?

    init(_ tasks: [RunTask]) {
        self.tasks = tasks
        for task in tasks {
            records[task.name] = TaskRecord(name: task.name, status: .pending, attempts: 0, rows: 0, startedAt: nil,
                                            finishedAt: nil, durationMS: 0, error: nil)
        }
    }

    func nextReady() -> RunTask? {
        tasks.first { task in
            records[task.name]?.status == .pending
                && task.dependsOn.allSatisfy { records[$0]?.status == .succeeded }
        }
    }

    func start(_ name: String) {
        records[name]?.status = .running
        running += 1
    }

    func finish(_ name: String, _ outcome: (TaskRecord, Error?)) {
        running -= 1
        records[name] = outcome.0
        if let error = outcome.1, failure == nil { failure = (name, error) }
    }

    /// Marks every task that never started as skipped; returns their names.
    func skipAfterFailure() -> [String] {
        var skipped: [String] = []
        for task in tasks where records[task.name]?.status == .pending {
            records[task.name]?.status = .skipped
            skipped.append(task.name)
        }
        return skipped
    }
}
