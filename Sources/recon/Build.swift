import ArgumentParser
import FundRecon
import Foundation
import Postgres

extension Recon {
    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load a dataset and build the warehouse (ODS -> DWD -> DWS -> ADS) in a run's schemas.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var pipelineOptions: PipelineOptions
        @OptionGroup var dataset: DatasetRunOptions

        @Option(help: "Also write every model statement, in the order run, to this SQL file.")
        var emitSQL: String?

        func run() throws {
            let result = try dataset.run([.initializeETLEnvironment, .importMainData, .importResellerData, .runDbtInitTasks, .runDbtModel],
                                         pipeline: pipelineOptions, recordStatements: emitSQL != nil, database: database, global: global)
            let report = result.outputs.build
            if let emitSQL {
                try Data(report.statements.map { $0 + ";\n" }.joined().utf8).write(to: URL(fileURLWithPath: emitSQL))
            }
            if let reportJSON = dataset.reportJSON { try writeReportJSON(report, to: reportJSON) }
            if dataset.keepSchemas, case .server = database.choice, let runID = RunID(result.audit.runID) {
                print("schemas kept: \(RunSchemas(runID: runID).all.joined(separator: ", "))")
            }
            guard !global.quiet else { return }
            for model in report.models {
                let name = model.model.padding(toLength: 34, withPad: " ", startingAt: 0)
                print("  \(name) \(model.materialized.padding(toLength: 6, withPad: " ", startingAt: 0)) "
                    + "\(String(model.rows).leftPadded(10)) rows \(String(model.durationMS).leftPadded(7)) ms")
            }
            print("built \(report.models.count) models and seeds in \(report.models.reduce(0) { $0 + $1.durationMS }) ms")
        }
    }

    struct Dag: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the run's task DAG (the seed's Airflow task names) and the models in build order; --airflow DIR writes Airflow DAG files that call recon.",
            discussion: """
                The Airflow DAGs keep the seed's ids: initialize_etl_environment (@once), import_main_data and \
                import_reseller_data (@hourly), run_dbt_init_tasks (@daily), run_dbt_model (@daily, after the day's \
                imports: models, then checks and reports) and monthly_audit_report (@monthly). Each task is a \
                BashOperator running `recon run` on the persistent warehouse named by --schema-prefix; workers \
                need RECON_DATABASE_URL in their environment.
                """)

        @OptionGroup var pipelineOptions: PipelineOptions

        @Option(help: ArgumentHelp("Write Airflow DAG files into this folder instead of printing.", valueName: "dir"))
        var airflow: String?

        @Option(help: "Airflow: the warehouse's schema prefix.") var schemaPrefix: String = "fundrecon"
        @Option(help: "Airflow: the landing folder the imports read.") var data: String = "landing"
        @Option(help: "Airflow: the expectations file.") var expectations: String = "expectations/fund_recon.yml"
        @Option(help: "Airflow: where reports go (one folder per grain and period).") var reports: String = "reports"
        @Option(help: "Airflow: the recon executable workers run (default: this one).") var recon: String?
        @Option(help: "Airflow: the DAGs' first logical date.") var startDate: String = "2026-10-01"

        func validate() throws {
            guard airflow != nil else { return }
            try flag("--schema-prefix") { try WarehousePrefix.validate(schemaPrefix) }
            guard CalendarDate(startDate) != nil else { throw ValidationError("--start-date '\(startDate)' is not a date") }
        }

        func run() throws {
            let (project, models) = try handlingFailures {
                let project = try PipelineProject.load(directory: pipelineOptions.pipeline)
                return (project, try project.orderedModels())
            }
            if let airflow {
                let overrides = try pipelineOptions.overrides()
                let absolute = { (path: String) in path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path }
                let executable = recon ?? Bundle.main.executablePath ?? CommandLine.arguments[0]
                let dags = AirflowDAGs(
                    recon: absolute(executable), prefix: schemaPrefix, dataDirectory: absolute(data),
                    pipelineDirectory: absolute(pipelineOptions.pipeline), expectationsPath: absolute(expectations),
                    reportsDirectory: absolute(reports), zone: overrides["business_timezone"] ?? project.vars["business_timezone"] ?? "UTC",
                    startDate: startDate)
                for path in try dags.write(to: airflow) { print(path) }
                return
            }
            // The tasks and their dependencies as the runner knows them; the build tasks list what they build.
            for task in TaskID.allCases {
                let after = task.dependencies.map(\.rawValue).joined(separator: ", ")
                print(task.rawValue.padding(toLength: 28, withPad: " ", startingAt: 0) + " "
                    + (after.isEmpty ? "" : "<- \(after): ") + task.summary)
                if task == .runDbtInitTasks {
                    print("  seeds  " + project.seeds.map(\.name).joined(separator: ", "))
                    printModels(models.filter { $0.layer == .ods })
                }
                if task == .runDbtModel { printModels(models.filter { $0.layer != .ods }) }
            }
            print("")
            print("recon run publishes each build's changed partitions; recon dag --airflow DIR writes the seed's tasks as Airflow DAGs.")
        }

        func printModels(_ models: [Model]) {
            for model in models {
                let refs = Set(model.refs).sorted()
                print("  \(model.layer.rawValue)  \(model.name)" + (refs.isEmpty ? "" : "  <- " + refs.joined(separator: ", ")))
            }
        }
    }
}
