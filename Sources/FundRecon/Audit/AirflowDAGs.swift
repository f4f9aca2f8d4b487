import Foundation

/// Writes Airflow DAG files that run a persistent warehouse with `recon run`: the seed's DAG ids,
/// hourly imports, daily models and checks, a monthly audit pack. Each task is a BashOperator
/// calling `recon`; the database comes from `RECON_DATABASE_URL` in the worker's environment
/// (never written into the files).
public struct AirflowDAGs: Sendable {
    /// The `recon` executable the workers run.
    public var recon: String
    public var prefix: String
    /// The landing folder the imports read.
    public var dataDirectory: String
    public var pipelineDirectory: String
    public var expectationsPath: String
    public var reportsDirectory: String
    /// The business time zone: schedules and periods follow its days and hours.
    public var zone: String
    /// The first logical date (`YYYY-MM-DD`).
    public var startDate: String

    public init(recon: String, prefix: String, dataDirectory: String, pipelineDirectory: String, expectationsPath: String,
                reportsDirectory: String, zone: String, startDate: String) {
        self.recon = recon
        self.prefix = prefix
        self.dataDirectory = dataDirectory
        self.pipelineDirectory = pipelineDirectory
        self.expectationsPath = expectationsPath
        self.reportsDirectory = reportsDirectory
        self.zone = zone
        self.startDate = startDate
    }

    /// One DAG: id, schedule, what it does, its tasks (id, the `recon run` grain and tasks, or a
    /// sensor on another DAG's task) and edges.
    public struct DAGSpec: Sendable {
        public var id: String
        public var schedule: String
        public var doc: String
        public var tasks: [TaskSpec]
        public var edges: [(String, String)]
    }

    public enum TaskSpec: Sendable {
        /// `recon run --grain G --tasks T1,T2`.
        case recon(id: String, grain: Grain, tasks: [String])
        /// Waits for `task` of `dag` at the logical date `at` names.
        case sensor(id: String, dag: String, task: String, at: SensorTime)

        public var id: String {
            switch self {
            case .recon(let id, _, _), .sensor(let id, _, _, _): return id
            }
        }
    }

    /// Which run of the other DAG a sensor waits for.
    public enum SensorTime: Sendable {
        /// The run this many hours after this run's logical date (the day's last hour: 23).
        case hoursLater(Int)
        /// The run of the last day of this run's month.
        case lastDayOfMonth
    }

    /// The DAGs, in the seed's names.
    public var dags: [DAGSpec] {
        [
            DAGSpec(id: TaskName.initialize, schedule: "@once", doc: "Creates the warehouse schemas, source tables and recon_meta.",
                    tasks: [.recon(id: TaskName.initialize, grain: .day, tasks: [TaskName.initialize])], edges: []),
            DAGSpec(id: TaskName.importMain, schedule: "@hourly",
                    doc: "Loads the OLTP rows of the hour (by watermark) into ODS.",
                    tasks: [.recon(id: TaskName.importMain, grain: .hour, tasks: [TaskName.importMain])], edges: []),
            DAGSpec(id: TaskName.importResellers, schedule: "@hourly",
                    doc: "Loads reseller and gateway files that are due and new (by SHA-256) into ODS.",
                    tasks: [.recon(id: TaskName.importResellers, grain: .hour, tasks: [TaskName.importResellers])], edges: []),
            DAGSpec(id: TaskName.dbtInit, schedule: "@daily", doc: "Loads the seeds and builds the ODS-layer models.",
                    tasks: [.recon(id: TaskName.dbtInit, grain: .day, tasks: [TaskName.dbtInit])], edges: []),
            DAGSpec(
                id: TaskName.dbtModel, schedule: "@daily",
                doc: "After the day's last hourly imports: rebuilds DWD/DWS/ADS, publishes changed partitions, checks the day.",
                tasks: [
                    .sensor(id: "wait_for_" + TaskName.importMain, dag: TaskName.importMain, task: TaskName.importMain, at: .hoursLater(23)),
                    .sensor(id: "wait_for_" + TaskName.importResellers, dag: TaskName.importResellers, task: TaskName.importResellers,
                            at: .hoursLater(23)),
                    .sensor(id: "wait_for_" + TaskName.dbtInit, dag: TaskName.dbtInit, task: TaskName.dbtInit, at: .hoursLater(0)),
                    .recon(id: TaskName.dbtModel, grain: .day, tasks: [TaskName.dbtModel]),
                    .recon(id: TaskName.checks, grain: .day, tasks: [TaskName.checks, TaskName.reports]),
                ],
                edges: [("wait_for_" + TaskName.importMain, TaskName.dbtModel), ("wait_for_" + TaskName.importResellers, TaskName.dbtModel),
                        ("wait_for_" + TaskName.dbtInit, TaskName.dbtModel), (TaskName.dbtModel, TaskName.checks)]),
            DAGSpec(id: "monthly_audit_report", schedule: "@monthly",
                    doc: "After the month's last daily build: the finance monthly audit pack (checks, statements, sign-off page).",
                    tasks: [
                        // The build, not its checks: a day with findings must still get its month's pack.
                        .sensor(id: "wait_for_" + TaskName.dbtModel, dag: TaskName.dbtModel, task: TaskName.dbtModel, at: .lastDayOfMonth),
                        .recon(id: TaskName.reports, grain: .month, tasks: [TaskName.checks, TaskName.reports]),
                    ],
                    edges: [("wait_for_" + TaskName.dbtModel, TaskName.reports)]),
        ]
    }

    /// Writes one `<dag_id>.py` per DAG into `directory`; returns the paths.
    @discardableResult
    public func write(to directory: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return try dags.map { dag in
            let path = directory + "/" + dag.id + ".py"
            try Data(source(of: dag).utf8).write(to: URL(fileURLWithPath: path))
            return path
        }
    }

    /// A Python string literal.
    static func py(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// A shell word, single-quoted.
    static func sh(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// The Jinja expression of a run's period in the business zone.
    func periodTemplate(_ grain: Grain) -> String {
        let format = grain == .hour ? "%Y-%m-%dT%H" : grain == .day ? "%Y-%m-%d" : "%Y-%m"
        return "{{ data_interval_start.in_timezone('\(zone)').strftime('\(format)') }}"
    }

    func command(grain: Grain, tasks: [String]) -> String {
        var words = [AirflowDAGs.sh(recon), "run", "--schema-prefix", AirflowDAGs.sh(prefix), "--grain", grain.rawValue,
                     "--period", "\"" + periodTemplate(grain) + "\"", "--tasks", tasks.joined(separator: ","),
                     "--pipeline", AirflowDAGs.sh(pipelineDirectory), "--expectations", AirflowDAGs.sh(expectationsPath),
                     "--reports", AirflowDAGs.sh(reportsDirectory) + "/" + grain.rawValue + "/\"" + periodTemplate(grain) + "\"",
                     "--quiet"]
        if tasks.contains(TaskName.importMain) || tasks.contains(TaskName.importResellers) {
            words += ["--data", AirflowDAGs.sh(dataDirectory)]
        }
        return words.joined(separator: " ")
    }

    func source(of dag: DAGSpec) -> String {
        let parts = startDate.split(separator: "-").compactMap { Int($0) }
        var text = """
            # Written by `recon dag --airflow`: do not edit, write it again.
            # DAG \(dag.id): \(dag.doc)
            # Every task calls `recon`; the database is RECON_DATABASE_URL in the worker's environment.
            # Exit codes: 0 passed, 1 a check failed (the task fails), 2 bad usage or file, 3 runtime failure.
            from datetime import timedelta

            import pendulum

            try:
                from airflow.sdk import DAG
            except ImportError:  # Airflow 2
                from airflow import DAG
            try:
                from airflow.providers.standard.operators.bash import BashOperator
                from airflow.providers.standard.sensors.external_task import ExternalTaskSensor
            except ImportError:  # Airflow 2 without the standard provider
                from airflow.operators.bash import BashOperator
                from airflow.sensors.external_task import ExternalTaskSensor

            with DAG(
                dag_id=\(AirflowDAGs.py(dag.id)),
                schedule=\(AirflowDAGs.py(dag.schedule)),
                start_date=pendulum.datetime(\(parts.count == 3 ? "\(parts[0]), \(parts[1]), \(parts[2])" : "2026, 1, 1"), tz=\(AirflowDAGs.py(zone))),
                catchup=False,
                max_active_runs=1,
                default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
                doc_md=\(AirflowDAGs.py(dag.doc)),
                tags=["fundrecon"],
            ) as dag:

            """
        for task in dag.tasks {
            switch task {
            case .recon(let id, let grain, let tasks):
                text += """
                    \(id) = BashOperator(
                        task_id=\(AirflowDAGs.py(id)),
                        bash_command=\(AirflowDAGs.py(command(grain: grain, tasks: tasks))),
                    )

                """
            case .sensor(let id, let other, let otherTask, let time):
                let when: String
                switch time {
                case .hoursLater(let hours): when = "execution_delta=timedelta(hours=\(-hours)),"
                case .lastDayOfMonth: when = "execution_date_fn=lambda logical_date, **_: logical_date.add(months=1).subtract(days=1),"
                }
                text += """
                    \(id) = ExternalTaskSensor(
                        task_id=\(AirflowDAGs.py(id)),
                        external_dag_id=\(AirflowDAGs.py(other)),
                        external_task_id=\(AirflowDAGs.py(otherTask)),
                        \(when)
                        mode="reschedule",
                        timeout=6 * 3600,
                    )

                """
            }
        }
        for (from, to) in dag.edges {
            text += "    \(from) >> \(to)\n"
        }
        return text
    }
}
