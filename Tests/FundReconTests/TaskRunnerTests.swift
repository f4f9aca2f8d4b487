import Foundation
import Logging
import Postgres
import Testing

@testable import FundRecon

@Suite("Task runner: the seed's DAG, parallel tasks, retries of transient failures")
struct TaskRunnerTests {
    /// A table of the shared cluster for one test.
    static func table() throws -> String {
        let name = "task_probe_" + UUID().uuidString.prefix(8).lowercased()
        try SharedCluster.connect().execute(SQL("CREATE TABLE public.\(name) (task text, started timestamptz, ended timestamptz)" as String))
        return name
    }

    @Test func independentTasksRunSideBySideOnTheirOwnConnections() throws {
        let table = try Self.table()
        let pids = Shared<[String: Int32]>([:])
        func sleeper(_ name: String, after: [String] = []) -> RunTask {
            RunTask(name, after: after) { context in
                let connection = try context.connect()
                pids.update { $0[name] = connection.backendPID }
                try connection.execute(SQL("INSERT INTO public.\(table) VALUES ('\(name)', clock_timestamp(), NULL)" as String))
                try connection.execute("SELECT pg_sleep(0.8)")
                try connection.execute(SQL("UPDATE public.\(table) SET ended = clock_timestamp() WHERE task = '\(name)'" as String))
                return 1
            }
        }
        let tasks = [sleeper("a"), sleeper("b"), sleeper("c", after: ["a", "b"])]
        let records = try TaskRunner(target: SharedCluster.target()).run(tasks, logger: quietLogger) { _ in }
        #expect(records.map(\.status) == [.succeeded, .succeeded, .succeeded])
        let connection = try SharedCluster.connect()
        // a and b overlapped; c began after both ended.
        let overlapped: Bool = try connection.query(SQL("""
            SELECT a.started < b.ended AND b.started < a.ended FROM public.\(table) a, public.\(table) b WHERE a.task = 'a' AND b.task = 'b'
            """ as String)).scalar()
        let ordered: Bool = try connection.query(SQL("""
            SELECT c.started >= max(o.ended) FROM public.\(table) c, public.\(table) o WHERE c.task = 'c' AND o.task <> 'c' GROUP BY c.started
            """ as String)).scalar()
        #expect(overlapped)
        #expect(ordered)
        #expect(Set(pids.value.values).count == 3)
    }

    @Test func aLostConnectionIsRetriedAndItsUncommittedWorkIsNotCountedTwice() throws {
        let table = try Self.table()
        var runner = try TaskRunner(target: SharedCluster.target())
        runner.backoffMS = 10
        runner.faults = FaultPlan(failures: ["load": 2])
        let events = Shared<[String]>([])
        let task = RunTask("load") { context in
            let connection = try context.connect()
            return try connection.transaction { connection in
                try connection.execute(SQL("INSERT INTO public.\(table) VALUES ('load', now(), now())" as String))
                try context.checkpoint(connection)
                return 1
            }
        }
        let records = try runner.run([task], logger: quietLogger) { event in events.update { $0.append(event.line) } }
        #expect(records[0].status == .succeeded)
        #expect(records[0].attempts == 3)
        #expect(events.value.filter { $0.contains("retrying in") }.count == 2)
        #expect(events.value.contains { $0.contains("retrying in 10 ms") } && events.value.contains { $0.contains("retrying in 20 ms") })
        let rows: Int = try SharedCluster.connect().query(SQL("SELECT count(*) FROM public.\(table)" as String)).scalar()
        #expect(rows == 1)
    }

    @Test func retriesStopAtTheLimitAndAPermanentErrorIsNotRetried() throws {
        var runner = try TaskRunner(target: SharedCluster.target())
        runner.backoffMS = 5
        runner.maxAttempts = 2
        runner.faults = FaultPlan(failures: ["flaky": 5])
        let flaky = RunTask("flaky") { context in
            let connection = try context.connect()
            try context.checkpoint(connection)
            return 0
        }
        let after = RunTask("after", after: ["flaky"]) { _ in 0 }
        let failure = try #require(throws: TaskFailure.self) { try runner.run([flaky, after], logger: quietLogger) { _ in } }
        #expect(failure.task == "flaky")
        #expect(failure.records.map(\.status) == [.failed, .skipped])
        #expect(failure.records[0].attempts == 2)

        let broken = RunTask("broken") { context in
            try context.connect().execute("SELECT * FROM no_such_table_anywhere")
            return 0
        }
        let permanent = try #require(throws: TaskFailure.self) { try runner.run([broken], logger: quietLogger) { _ in } }
        #expect(permanent.records[0].attempts == 1)
        #expect((permanent.underlying as? PostgresError)?.sqlState == "42P01")
    }

    @Test func theDAGIsCheckedBeforeAnythingRuns() throws {
        let ran = Shared(false)
        let body: @Sendable (TaskContext) throws -> Int = { _ in ran.value = true; return 0 }
        #expect(throws: PipelineError.self) {
            try TaskRunner(target: SharedCluster.target()).run(
                [RunTask("a", after: ["b"], body: body), RunTask("b", after: ["a"], body: body)], logger: quietLogger) { _ in }
        }
        #expect(throws: PipelineError.self) {
            try TaskRunner(target: SharedCluster.target()).run([RunTask("a", after: ["ghost"], body: body)], logger: quietLogger) { _ in }
        }
        #expect(!ran.value)
        // The seed's DAG itself: every dependency names a task, and the imports depend on nothing but the setup.
        try TaskRunner.validate(TaskName.all.map { RunTask($0, after: TaskName.dependencies[$0] ?? [], body: body) })
        #expect(TaskName.dependencies[TaskName.importMain] == [TaskName.initialize])
        #expect(TaskName.dependencies[TaskName.importResellers] == [TaskName.initialize])
        // A selection keeps the order of what it selects, through the tasks it leaves out.
        #expect(TaskName.dependencies(of: TaskName.dbtModel, among: [TaskName.importMain, TaskName.dbtModel]) == [TaskName.importMain])
        #expect(TaskName.dependencies(of: TaskName.dbtModel, among: [TaskName.initialize, TaskName.dbtModel]) == [TaskName.initialize])
        #expect(TaskName.dependencies(of: TaskName.reports, among: Set(TaskName.all)) == [TaskName.checks])
        #expect(TaskName.dependencies(of: TaskName.checks, among: [TaskName.checks]).isEmpty)
    }

    @Test func faultPlansComeFromTheEnvironment() {
        let plan = FaultPlan.fromEnvironment(["RECON_INJECT_FAULT": "import_main_data:2,run_checks:1", "RECON_INJECT_PAUSE": "run_dbt_model:1.5"])
        #expect(plan.failures == ["import_main_data": 2, "run_checks": 1])
        #expect(plan.pause == ["run_dbt_model": 1.5])
        #expect(FaultPlan.fromEnvironment([:]).failures.isEmpty)
    }
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
            #expect(throws: InputError.self) { try Period(parsing: text, grain: grain) }
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
        func kept(_ predicate: String) throws -> Int {
            try connection.query(SQL("SELECT count(*) FROM scoped WHERE " + predicate)).scalar()
        }
        #expect(try kept(scope.predicate(on: "d", type: "date", grain: nil)) == 1)
        #expect(try kept(scope.predicate(on: "m", type: "date", grain: "month")) == 1)
        #expect(try kept(scope.predicate(on: "t", type: "timestamp with time zone", grain: nil)) == 1)
        // Moved back a day: the rows whose one-day window closed in the period.
        #expect(try connection.query(SQL("SELECT d::text FROM scoped WHERE " + scope.predicate(on: "d", type: "date", grain: nil, lagDays: 1)))
            .scalar(String.self) == "2026-10-02")
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
