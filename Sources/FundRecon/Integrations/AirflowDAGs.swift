import Foundation

/// Writes Airflow DAG files that run a persistent warehouse with `recon run`: the seed's DAG ids,
/// hourly imports, daily models and checks, a monthly audit pack. Each task is a BashOperator
/// calling `recon`; the database comes from `RECON_DATABASE_URL` in the worker's environment
/// (never written into the files).
package struct AirflowDAGs: Sendable {
    /// The `recon` executable the workers run.
    package var recon: String
    package var prefix: String
    /// The landing folder the imports read.
    package var dataDirectory: String
    package var pipelineDirectory: String
    package var expectationsPath: String
    package var reportsDirectory: String
    /// The business time zone: schedules and periods follow its days and hours.
    package var zone: String
    /// The first logical date (`YYYY-MM-DD`).
    package var startDate: String

    package init(recon: String, prefix: String, dataDirectory: String, pipelineDirectory: String, expectationsPath: String,
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
    package struct DAGSpec: Sendable {
        package var id: String
        package var schedule: String
        package var doc: String
        package var tasks: [TaskSpec]
        package var edges: [(String, String)]
    }

    package enum TaskSpec: Sendable {
        /// `recon run --grain G --tasks T1,T2`.
        case recon(id: String, grain: Grain, tasks: [TaskID])
        /// Waits for `task` of `dag` at the logical date `at` names.
        case sensor(id: String, dag: String, task: String, at: SensorTime)

        package var id: String {
            switch self {
            case .recon(let id, _, _), .sensor(let id, _, _, _): return id
            }
        }
    }

    /// Which run of the other DAG a sensor waits for.
    package enum SensorTime: Sendable {
        /// The run this many hours after this run's logical date (the day's last hour: 23).
        case hoursLater(Int)
        /// The run of the last day of this run's month.
        case lastDayOfMonth
    }

    /// The DAGs, in the seed's names: one per task of the seed's DAG (the imports hourly, the
    /// builds and checks daily), and the monthly pack.
    package var dags: [DAGSpec] {
        func sensor(on task: TaskID, at time: SensorTime) -> TaskSpec {
            .sensor(id: "wait_for_" + task.rawValue, dag: task.rawValue, task: task.rawValue, at: time)
        }
        func single(_ task: TaskID, _ schedule: String, _ grain: Grain, _ doc: String) -> DAGSpec {
            DAGSpec(id: task.rawValue, schedule: schedule, doc: doc, tasks: [.recon(id: task.rawValue, grain: grain, tasks: [task])],
                    edges: [])
        }
        let model = TaskID.runDbtModel.rawValue
        let checks = TaskID.runChecks.rawValue
        return [
            single(.initializeETLEnvironment, "@once", .day, "Creates the warehouse schemas, source tables and recon_meta."),
            single(.importMainData, "@hourly", .hour, "Loads the OLTP rows of the hour (by watermark) into ODS."),
            single(.importResellerData, "@hourly", .hour, "Loads reseller and gateway files that are due and new (by SHA-256) into ODS."),
            single(.runDbtInitTasks, "@daily", .day, "Loads the seeds and builds the ODS-layer models."),
            DAGSpec(
                id: model, schedule: "@daily",
                doc: "After the day's last hourly imports: rebuilds DWD/DWS/ADS, publishes changed partitions, checks the day.",
                tasks: [
                    sensor(on: .importMainData, at: .hoursLater(23)), sensor(on: .importResellerData, at: .hoursLater(23)),
                    sensor(on: .runDbtInitTasks, at: .hoursLater(0)),
                    .recon(id: model, grain: .day, tasks: [.runDbtModel]),
                    .recon(id: checks, grain: .day, tasks: [.runChecks, .writeReports]),
                ],
                edges: [("wait_for_" + TaskID.importMainData.rawValue, model), ("wait_for_" + TaskID.importResellerData.rawValue, model),
                        ("wait_for_" + TaskID.runDbtInitTasks.rawValue, model), (model, checks)]),
            DAGSpec(id: "monthly_audit_report", schedule: "@monthly",
                    doc: "After the month's last daily build: the finance monthly audit pack (checks, statements, sign-off page).",
                    tasks: [
                        // The build, not its checks: a day with findings must still get its month's pack.
                        sensor(on: .runDbtModel, at: .lastDayOfMonth),
                        .recon(id: TaskID.writeReports.rawValue, grain: .month, tasks: [.runChecks, .writeReports]),
                    ],
                    edges: [("wait_for_" + model, TaskID.writeReports.rawValue)]),
        ]
    }

    /// Writes one `<dag_id>.py` per DAG into `directory`; returns the paths.
    @discardableResult
    package func write(to directory: String) throws -> [String] {
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

    func command(grain: Grain, tasks: [TaskID]) -> String {
        var words = [AirflowDAGs.sh(recon), "run", "--schema-prefix", AirflowDAGs.sh(prefix), "--grain", grain.rawValue,
                     "--period", "\"" + periodTemplate(grain) + "\"", "--tasks", tasks.map(\.rawValue).joined(separator: ","),
                     "--pipeline", AirflowDAGs.sh(pipelineDirectory), "--expectations", AirflowDAGs.sh(expectationsPath),
                     "--reports", AirflowDAGs.sh(reportsDirectory) + "/" + grain.rawValue + "/\"" + periodTemplate(grain) + "\"",
                     "--quiet"]
        if tasks.contains(.importMainData) || tasks.contains(.importResellerData) {
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
                // A task that checks fails (exit 1) on a finding: trying again reads the same data, so
                // it does not retry; loads and builds retry what may be passing (exit 3: a lost server).
                let retries = tasks.contains(.runChecks) ? "\n        retries=0,  # a failed check is a finding, not a fault" : ""
                text += """
                    \(id) = BashOperator(
                        task_id=\(AirflowDAGs.py(id)),
                        bash_command=\(AirflowDAGs.py(command(grain: grain, tasks: tasks))),\(retries)
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
