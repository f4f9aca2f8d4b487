import ArgumentParser
import FundRecon
import Postgres
import Foundation

/// Options naming the pipeline and its vars.
struct PipelineOptions: ParsableArguments {
    @Option(help: "The pipeline folder (project.yml, models/, seeds/).")
    var pipeline: String = "pipeline"

    @Option(name: .customLong("var"), help: ArgumentHelp("Override a project var.", valueName: "key=value"))
    var vars: [String] = []

    func overrides() throws -> [String: String] {
        var result: [String: String] = [:]
        for assignment in vars {
            let parts = assignment.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("--var expects key=value, got '\(assignment)'") }
            result[parts[0]] = parts[1]
        }
        return result
    }

    /// Loads the project, turning a bad file into exit code 2 with the file and line.
    func project() throws -> PipelineProject {
        do {
            return try PipelineProject.load(directory: pipeline)
        } catch let error as PipelineError {
            printError("\(pipeline)/\(error)", fix: nil)
            throw ExitCode(2)
        }
    }
}

extension Recon {
    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load a dataset and build the warehouse (ODS -> DWD -> DWS -> ADS) in a run's schemas.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var pipelineOptions: PipelineOptions

        @Option(help: "The dataset directory (DATA_CONTRACT.md section 1).")
        var data: String

        @Flag(help: "Leave the run's schemas in place at the end (with --db).")
        var keepSchemas = false

        @Option(help: "Also write the build report (every model's rows and time) as JSON to this file.")
        var reportJSON: String?

        @Option(help: "Also write every model statement, in the order run, to this SQL file.")
        var emitSQL: String?

        func run() throws {
            let logger = global.bootstrapLogging()
            let project = try pipelineOptions.project()
            let overrides = try pipelineOptions.overrides()
            let interrupts = Interrupts()
            interrupts.install()
            let report: BuildReport = try exitingOnFailure(pipeline: pipelineOptions.pipeline) {
                try database.withRun(keepSchemas: keepSchemas, interrupts: interrupts, logger: logger) { provided, run in
                    let runner = try PipelineRunner(project: project, schemas: run.schemas, overrides: overrides)
                    if !global.quiet { print("run \(run.runID): loading \(data)") }
                    let load = try Ingest.load(dataset: data, schemas: run.schemas, connection: run.connection, logger: logger)
                    if !global.quiet {
                        let totals = load.totals.values
                        print("loaded \(totals.reduce(0) { $0 + $1.loaded }) rows, rejected \(totals.reduce(0) { $0 + $1.rejected })")
                    }
                    var statements: [String] = []
                    let report = try runner.build(on: run.connection, logger: logger, emit: emitSQL == nil ? nil : { statements.append($0) })
                    if let emitSQL {
                        try Data(statements.map { $0 + ";\n" }.joined().utf8).write(to: URL(fileURLWithPath: emitSQL))
                    }
                    if let reportJSON { try writeReportJSON(report, to: reportJSON) }
                    if keepSchemas, provided.cluster == nil {
                        print("schemas kept: \(run.schemas.all.joined(separator: ", "))")
                    }
                    return report
                }
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
            do { try WarehouseRunner.validate(prefix: schemaPrefix) } catch { throw ValidationError("\(error)") }
            guard CalendarDate(startDate) != nil else { throw ValidationError("--start-date '\(startDate)' is not a date") }
        }

        func run() throws {
            let project = try pipelineOptions.project()
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
            let models: [Model]
            do {
                models = try project.orderedModels()
            } catch let error as PipelineError {
                printError("\(pipelineOptions.pipeline)/\(error)", fix: nil)
                throw ExitCode(2)
            }
            print("initialize_etl_environment   run schemas rc_<runid>_oltp|ods|dwd|dws|ads (recon run: also the warehouse's own)")
            print("import_main_data             <- initialize_etl_environment: OLTP extracts -> oltp, ods_*")
            print("import_reseller_data         <- initialize_etl_environment: reseller, Stripe and Adyen files -> ods_*")
            print("run_dbt_init_tasks           <- import_main_data, import_reseller_data: seeds "
                + project.seeds.map(\.name).joined(separator: ", "))
            print("run_dbt_model                <- run_dbt_init_tasks: \(models.count) models")
            for model in models {
                let refs = model.refs.sorted()
                print("  \(model.layer.rawValue)  \(model.name)" + (refs.isEmpty ? "" : "  <- " + refs.joined(separator: ", ")))
            }
            print("run_checks                   <- run_dbt_model: every check of the expectations file (recon run: scoped to the period)")
            print("write_reports                <- run_checks: HTML, XLSX, JUnit, JSON")
            print("")
            print("recon run publishes each build's changed partitions; recon dag --airflow DIR writes these tasks as Airflow DAGs.")
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}

/// A command's machine-readable report (`--report-json`): sorted, indented, snake_case keys.
func writeReportJSON(_ value: some Encodable, to path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    try encoder.encode(value).write(to: URL(fileURLWithPath: path))
}
