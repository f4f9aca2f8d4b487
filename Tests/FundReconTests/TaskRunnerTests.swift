import Foundation
import Logging
import Postgres
import Testing

@testable import FundRecon

@Suite("Task runner: the seed's DAG, outputs between tasks, parallel tasks, retries of transient failures")
struct TaskRunnerTests {
    /// A table of the shared cluster for one test.
    static func table() throws -> String {
        let name = "task_probe_" + UUID().uuidString.prefix(8).lowercased()
        try SharedCluster.connect().execute(SQL(unsafeSQL: "CREATE TABLE public.\(name) (task text, started timestamptz, ended timestamptz)"))
        return name
    }

    /// The connections of a run on the shared cluster.
    static func connections() throws -> RunConnections { RunConnections(runID: .generate(), target: try SharedCluster.target()) }

    /// Connections to nowhere: for tasks that never connect, run without a server.
    static let nowhere = RunConnections(runID: .generate(), target: .keywords("host=/nonexistent port=1"))

    /// A task's output that counts `rows` (an import's load report with one file).
    static func rows(_ rows: Int) -> TaskOutput {
        .loaded(LoadReport(files: [FileLoad(source: "oltp", file: "x.csv", sha256: "", rowsRead: rows, rowsLoaded: rows,
                                            rowsRejected: 0, status: .loaded, duplicateOf: nil)]))
    }

    @Test func independentTasksRunSideBySideOnTheirOwnConnectionsNamedAfterTheRun() throws {
        let table = try Self.table()
        let connections = try Self.connections()
        let names = Locked<[TaskID: String]>([:])
        func sleeper(_ id: TaskID, after: [TaskID] = []) -> RunTask {
            RunTask(id, after: after) { context, _ in
                let connection = try context.connect()
                let name: String = try connection.query("SELECT current_setting('application_name')").scalar()
                names.update { $0[id] = name }
                try connection.execute(SQL(unsafeSQL: "INSERT INTO public.\(table) VALUES ('\(id.rawValue)', clock_timestamp(), NULL)"))
                try connection.execute("SELECT pg_sleep(0.8)")
                try connection.execute(SQL(unsafeSQL: "UPDATE public.\(table) SET ended = clock_timestamp() WHERE task = '\(id.rawValue)'"))
                return Self.rows(1)
            }
        }
        let tasks = [sleeper(.importMainData), sleeper(.importResellerData),
                     sleeper(.runDbtInitTasks, after: [.importMainData, .importResellerData])]
        let outcome = try TaskRunner(connections: connections, faults: FaultPlan()).run(tasks, logger: quietLogger) { _ in }
        #expect(outcome.records.map(\.status) == [.succeeded, .succeeded, .succeeded])
        #expect(outcome.records.map(\.rows) == [1, 1, 1])
        let connection = try SharedCluster.connect()
        // The two imports overlapped; the build began after both ended.
        let overlapped: Bool = try connection.query(SQL(unsafeSQL: """
            SELECT a.started < b.ended AND b.started < a.ended FROM public.\(table) a, public.\(table) b
            WHERE a.task = 'import_main_data' AND b.task = 'import_reseller_data'
            """))
            .scalar()
        let ordered: Bool = try connection.query(SQL(unsafeSQL: """
            SELECT c.started >= max(o.ended) FROM public.\(table) c, public.\(table) o
            WHERE c.task = 'run_dbt_init_tasks' AND o.task <> 'run_dbt_init_tasks' GROUP BY c.started
            """))
            .scalar()
        #expect(overlapped)
        #expect(ordered)
        // Every session carries the run's name and its task's: an interrupt finds them all.
        #expect(names.value == [.importMainData: connections.applicationPrefix + "-import_main_data",
                                .importResellerData: connections.applicationPrefix + "-import_reseller_data",
                                .runDbtInitTasks: connections.applicationPrefix + "-run_dbt_init_tasks"])
    }

    @Test func aTaskReadsTheOutputsOfTheTasksItDependsOn() throws {
        let seen = Locked<[TaskID: String]>([:])
        let tasks = [
            RunTask(.initializeETLEnvironment, after: []) { _, _ in .prepared(Dataset(directory: "/landing")) },
            RunTask(.importMainData, after: [.initializeETLEnvironment]) { _, outputs in
                seen.update { $0[.importMainData] = outputs.dataset?.directory ?? "none" }
                return Self.rows(3)
            },
            RunTask(.importResellerData, after: [.initializeETLEnvironment]) { _, _ in Self.rows(4) },
            RunTask(.runDbtInitTasks, after: [.importMainData, .importResellerData]) { _, outputs in
                seen.update { $0[.runDbtInitTasks] = "\(outputs.load.files.reduce(0) { $0 + $1.rowsLoaded })" }
                return .built(BuildOutcome(report: BuildReport(models: [ModelRun(model: "m", layer: "ods", materialized: "table",
                                                                                  rows: 5, durationMS: 1)])))
            },
        ]
        let outcome = try TaskRunner(connections: Self.nowhere, faults: FaultPlan()).run(tasks, logger: quietLogger) { _ in }
        #expect(seen.value == [.importMainData: "/landing", .runDbtInitTasks: "7"])
        #expect(outcome.records.map(\.rows) == [0, 3, 4, 5])
        #expect(outcome.outputs.load.files.count == 2)
        #expect(outcome.outputs.build.models.map(\.model) == ["m"])
    }

    @Test func aLostConnectionIsRetriedAndItsUncommittedWorkIsNotCountedTwice() throws {
        let table = try Self.table()
        var runner = TaskRunner(connections: try Self.connections(), faults: FaultPlan(failures: [.importMainData: 2]))
        runner.backoffMS = 10
        let events = Locked<[String]>([])
        let task = RunTask(.importMainData, after: []) { context, _ in
            try context.inTransaction { connection in
                try connection.execute(SQL(unsafeSQL: "INSERT INTO public.\(table) VALUES ('load', now(), now())"))
                return Self.rows(1)
            }
        }
        let outcome = try runner.run([task], logger: quietLogger) { event in events.update { $0.append(event.line) } }
        #expect(outcome.records[0].status == .succeeded)
        #expect(outcome.records[0].attempts == 3)
        #expect(events.value.filter { $0.contains("retrying in") }.count == 2)
        #expect(events.value.contains { $0.contains("retrying in 10 ms") } && events.value.contains { $0.contains("retrying in 20 ms") })
        let rows: Int = try SharedCluster.connect().query(SQL(unsafeSQL: "SELECT count(*) FROM public.\(table)"))
            .scalar()
        #expect(rows == 1)
    }

    @Test func aLostConnectionInsideAModelIsRetriedToo() {
        let lost = ModelFailure(model: "dwd_orders", file: "models/dwd/dwd_orders.sql", line: nil, sqlState: nil,
                                message: "server closed the connection unexpectedly", isTransient: true)
        #expect(TaskRunner.isTransient(lost))
        #expect(TaskRunner.isTransient(PostgresError(kind: .protocolFailure, message: "server closed the connection unexpectedly")))
        #expect(!TaskRunner.isTransient(ModelFailure(model: "m", file: "f", line: 2, sqlState: .undefinedTable, message: "x")))
    }

    @Test func retriesStopAtTheLimitAndAPermanentErrorIsNotRetried() throws {
        var runner = TaskRunner(connections: try Self.connections(), faults: FaultPlan(failures: [.importMainData: 5]))
        runner.backoffMS = 5
        runner.maxAttempts = 2
        let flaky = RunTask(.importMainData, after: []) { context, _ in
            try context.checkpoint(try context.connect())
            return Self.rows(0)
        }
        let after = RunTask(.runDbtInitTasks, after: [.importMainData]) { _, _ in Self.rows(0) }
        let failure = try #require(throws: TaskFailure.self) { try runner.run([flaky, after], logger: quietLogger) { _ in } }
        #expect(failure.task == .importMainData)
        #expect(failure.records.map(\.status) == [.failed, .skipped])
        #expect(failure.records[0].attempts == 2)

        let broken = RunTask(.runChecks, after: []) { context, _ in
            try context.connect().execute("SELECT * FROM no_such_table_anywhere")
            return .checked([], asOf: nil)
        }
        let permanent = try #require(throws: TaskFailure.self) { try runner.run([broken], logger: quietLogger) { _ in } }
        #expect(permanent.records[0].attempts == 1)
        #expect((permanent.underlying as? PostgresError)?.sqlState == .undefinedTable)
    }

    @Test func theGraphIsCheckedBeforeAnythingRuns() throws {
        let ran = Locked(false)
        let work: @Sendable (TaskContext, RunOutputs) throws -> TaskOutput = { _, _ in ran.update { $0 = true }; return .checked([], asOf: nil) }
        let runner = TaskRunner(connections: Self.nowhere, faults: FaultPlan())
        let cycle = try #require(throws: TaskGraphError.self) {
            try runner.run([RunTask(.importMainData, after: [.importResellerData], work: work),
                            RunTask(.importResellerData, after: [.importMainData], work: work)], logger: quietLogger) { _ in }
        }
        #expect(cycle.description.contains("cycle"))
        #expect(throws: TaskGraphError.self) {
            try runner.run([RunTask(.runChecks, after: [.runDbtModel], work: work)], logger: quietLogger) { _ in }
        }
        #expect(throws: TaskGraphError.self) {
            try runner.run([RunTask(.runChecks, after: [], work: work), RunTask(.runChecks, after: [], work: work)],
                           logger: quietLogger) { _ in }
        }
        #expect(!ran.value)
        #expect(cycle.failureClass == .runtime)
    }

    @Test func faultPlansComeFromTheEnvironment() {
        let plan = FaultPlan.fromEnvironment(["RECON_INJECT_FAULT": "import_main_data:2,run_checks:1,no_such_task:3",
                                              "RECON_INJECT_PAUSE": "run_dbt_model:1.5"])
        #expect(plan.failures == [.importMainData: 2, .runChecks: 1])
        #expect(plan.pause == [.runDbtModel: 1.5])
        #expect(FaultPlan.fromEnvironment([:]).failures.isEmpty)
    }
}

@Suite("The task graph and the run's outputs, without a server")
struct TaskGraphTests {
    static func task(_ id: TaskID, among selected: Set<TaskID> = Set(TaskID.seed)) -> RunTask {
        RunTask(id, after: id.dependencies(among: selected)) { _, _ in .checked([], asOf: nil) }
    }

    @Test func theSeedsDAGIsDeclaredOnceAndSelectionsKeepItsOrder() throws {
        _ = try TaskGraph(TaskID.seed.map { Self.task($0) })
        #expect(TaskID.importMainData.dependencies == [.initializeETLEnvironment])
        #expect(TaskID.importResellerData.dependencies == [.initializeETLEnvironment])
        #expect(TaskID.writeReports.dependencies == [.runChecks])
        // A selection waits for what it selects, through the tasks it leaves out.
        #expect(TaskID.runDbtModel.dependencies(among: [.importMainData, .runDbtModel]) == [.importMainData])
        #expect(TaskID.runDbtModel.dependencies(among: [.initializeETLEnvironment, .runDbtModel]) == [.initializeETLEnvironment])
        #expect(TaskID.writeReports.dependencies(among: Set(TaskID.seed)) == [.runChecks])
        #expect(TaskID.runChecks.dependencies(among: [.runChecks]).isEmpty)
        #expect(TaskID.snapshotOutputs.dependencies(among: Set(TaskID.allCases)) == [.runDbtModel])
        #expect(TaskID.seed.sorted() == TaskID.seed)
    }

    @Test func theStateMachineStartsWhatIsReadyAndSkipsWhatFollowsAFailure() throws {
        var graph = try TaskGraph(TaskID.seed.map { Self.task($0) })
        #expect(graph.nextReady()?.id == .initializeETLEnvironment)
        graph.start(.initializeETLEnvironment)
        #expect(graph.nextReady() == nil)
        #expect(!graph.isFinished)
        var record = TaskRecord(pending: .initializeETLEnvironment)
        record.status = .succeeded
        graph.finish(.initializeETLEnvironment, record: record, outcome: .success(.prepared(Dataset(directory: "/d"))))
        #expect(graph.outputs.dataset?.directory == "/d")
        // The two imports are ready together.
        #expect(graph.nextReady()?.id == .importMainData)
        graph.start(.importMainData)
        #expect(graph.nextReady()?.id == .importResellerData)
        graph.start(.importResellerData)
        #expect(graph.nextReady() == nil)
        record = TaskRecord(pending: .importMainData)
        record.status = .failed
        graph.finish(.importMainData, record: record, outcome: .failure(BadValue("lost")))
        // Nothing new starts once a task failed, but the one running may end.
        #expect(graph.nextReady() == nil)
        #expect(!graph.isFinished)
        record = TaskRecord(pending: .importResellerData)
        record.status = .succeeded
        graph.finish(.importResellerData, record: record, outcome: .success(TaskRunnerTests.rows(2)))
        #expect(graph.isFinished)
        #expect(graph.failure?.task == .importMainData)
        #expect(graph.skipRemaining().map(\.task) == [.runDbtInitTasks, .runDbtModel, .runChecks, .writeReports])
        #expect(graph.orderedRecords.map(\.status) == [.succeeded, .failed, .succeeded, .skipped, .skipped, .skipped, .skipped])
        #expect(graph.outputs.loads[.importResellerData]?.files.first?.rowsLoaded == 2)
    }

    @Test func outputsAreRecordedByTaskAndMergedInTaskOrder() {
        var outputs = RunOutputs()
        func load(_ file: String) -> LoadReport {
            LoadReport(files: [FileLoad(source: "s", file: file, sha256: "", rowsRead: 1, rowsLoaded: 1, rowsRejected: 0,
                                        status: .loaded, duplicateOf: nil)])
        }
        outputs.record(.loaded(load("gateway.csv")), of: .importResellerData)
        outputs.record(.loaded(load("orders.csv")), of: .importMainData)
        #expect(outputs.load.files.map(\.file) == ["orders.csv", "gateway.csv"])
        let change = PartitionChange(table: "t", partition: "2026-10-01", rowsBefore: 1, rowsAfter: 2, amounts: nil, restatement: true)
        outputs.record(.built(BuildOutcome(report: BuildReport(models: [ModelRun(model: "b", layer: "dwd", materialized: "table", rows: 2,
                                                                                  durationMS: 0)]), published: [change])), of: .runDbtModel)
        outputs.record(.built(BuildOutcome(report: BuildReport(models: [ModelRun(model: "a", layer: "ods", materialized: "table", rows: 1,
                                                                                  durationMS: 0)]))), of: .runDbtInitTasks)
        #expect(outputs.build.models.map(\.model) == ["a", "b"])
        #expect(outputs.published == [change])
        #expect(TaskOutput.built(outputs.builds[.runDbtModel]!).count == 2)
        outputs.record(.checked([], asOf: nil), of: .runChecks)
        #expect(outputs.checks.isEmpty)
        #expect(outputs.reportInputs == nil)
    }
}

/// A value tests share between a task's thread and the test's (the runner's own state needs no such box).
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) { stored = value }

    var value: Value { lock.withLock { stored } }

    func update(_ body: (inout Value) -> Void) { lock.withLock { body(&stored) } }
}

@Suite("Periods and check scopes")
struct PeriodTests {
    @Test func periodsParseAtTheirGrainAndStepAcrossDaysAndMonths() throws {
        let hour = try Period(parsing: "2026-10-03T23", grain: .hour)
        #expect(hour.description == "2026-10-03T23")
        #expect(hour.next.description == "2026-10-04T00")
        #expect(hour.localEnd == "2026-10-04 00:00:00")
        #expect(hour.filesDueBefore.description == "2026-10-04")
        #expect(try Period(parsing: "2026-10-03T10:00:00+00:00", grain: .hour).description == "2026-10-03T10")
        #expect(try Period(parsing: "2026-10-31", grain: .day).next.description == "2026-11-01")
        #expect(try Period(parsing: "2026-12", grain: .month).next.description == "2027-01")
        #expect(try Period(parsing: "2026-10-17", grain: .month).description == "2026-10")
        #expect(Period.range(from: try Period(parsing: "2026-10-30", grain: .day), through: try Period(parsing: "2026-11-02", grain: .day))
            .map(\.description) == ["2026-10-30", "2026-10-31", "2026-11-01", "2026-11-02"])
        for (text, grain) in [("2026-10-03", Grain.hour), ("2026-13", .month), ("03/10/2026", .day), ("2026-10-03T24", .hour)] {
            #expect(throws: BadValue.self) { try Period(parsing: text, grain: grain) }
        }
    }

    @Test func theHoursOfADSTDayTileItsTwentyFiveHours() throws {
        // Europe/Berlin leaves summer time at 03:00 on 2026-10-25: the local hour 02 happens twice.
        // Whichever hour holds the repeat, the hours meet end to start and add up to the day.
        let connection = try SharedCluster.connect()
        var hour = try Period(parsing: "2026-10-25T00", grain: .hour)
        var total = 0.0
        var previousEnd: Date?
        for _ in 0..<24 {
            let (start, end) = try hour.instants(zone: "Europe/Berlin", connection: connection)
            if let previousEnd { #expect(start == previousEnd, "\(hour)") }
            total += end.timeIntervalSince(start)
            previousEnd = end
            hour = hour.next
        }
        #expect(total == 25 * 3600)
        let (dayStart, dayEnd) = try Period(parsing: "2026-10-25", grain: .day).instants(zone: "Europe/Berlin", connection: connection)
        #expect(dayEnd.timeIntervalSince(dayStart) == 25 * 3600)
    }

    @Test func scopesKeepTheRowsOfThePeriod() throws {
        let connection = try SharedCluster.connect()
        try connection.executeScript("""
            CREATE TEMP TABLE scoped (d date, m date, t timestamptz);
            INSERT INTO scoped VALUES ('2026-10-02', '2026-09-01', '2026-10-03 09:59:59+02'), ('2026-10-03', '2026-10-01', '2026-10-03 10:00:00+02'),
                                      ('2026-10-04', '2026-11-01', '2026-10-03 11:00:00+02')
            """)
        let scope = CheckScope(period: try Period(parsing: "2026-10-03T10", grain: .hour), zone: "Europe/Berlin")
        func kept(_ predicate: SQL) throws -> Int {
            try connection.query("SELECT count(*) FROM scoped WHERE \(predicate)").scalar()
        }
        #expect(try kept(scope.predicate(on: "d", type: "date", grain: nil)) == 1)
        #expect(try kept(scope.predicate(on: "m", type: "date", grain: "month")) == 1)
        #expect(try kept(scope.predicate(on: "t", type: "timestamp with time zone", grain: nil)) == 1)
        // A one-day window of 10-02 closes when 10-03 ends: in its last hour, not at 10:00.
        #expect(try kept(scope.windowClosed(on: "d", windowDays: 1)) == 0)
        let lastHour = CheckScope(period: try Period(parsing: "2026-10-03T23", grain: .hour), zone: "Europe/Berlin")
        #expect(try connection.query("SELECT d::text FROM scoped WHERE \(lastHour.windowClosed(on: "d", windowDays: 1))")
            .scalar(String.self) == "2026-10-02")
        let day = CheckScope(period: try Period(parsing: "2026-10-04", grain: .day), zone: "Europe/Berlin")
        #expect(try connection.query("SELECT d::text FROM scoped WHERE \(day.windowClosed(on: "d", windowDays: 1))")
            .scalar(String.self) == "2026-10-03")
    }

    @Test func thePeriodKeyParsesAndIsRefusedWhereItCannotApply() throws {
        let file = try ExpectationsParser.parse(text: """
            version: 1
            checks:
              - {id: a, type: not_null, table: dwd_orders, columns: [order_id], period: biz_date}
              - {id: b, type: expression, table: ads_monthly_statement, expression: "true", period: {column: month_start, grain: month}}
              - {id: c, type: continuity, table: ads_merchant_balance_daily, keys: [merchant_id], period: biz_date, step: 1 day, opening: o, closing: c}
            """, file: "scoped.yml")
        #expect(file.checks[0].period == PeriodColumn(column: "biz_date", grain: nil))
        #expect(file.checks[1].period == PeriodColumn(column: "month_start", grain: "month"))
        #expect(file.checks[2].period == PeriodColumn(column: "biz_date", grain: nil))
        let error = try #require(throws: ExpectationsError.self) {
            try ExpectationsParser.parse(text: """
                version: 1
                checks:
                  - id: s
                    type: sql
                    table: dwd_orders
                    query: select 1 where false
                    period: biz_date
                """, file: "bad.yml")
        }
        #expect(error.line == 7)
        #expect(error.message.contains("cannot be scoped"))
    }
}
