import ArgumentParser
import FundRecon
import Foundation
import Postgres

/// The generation options of commands that can make their own dataset.
struct GenerationOptions: ParsableArguments {
    @Flag(help: "Generate the dataset instead (see the generation options).")
    var generate = false

    @Option(help: "Generation: random seed.") var seed: UInt64 = 42
    @Option(help: "Generation: first day.") var start: String = "2026-10-01"
    @Option(help: "Generation: days.") var days: Int = 31
    @Option(help: "Generation: average orders per day.") var ordersPerDay: Int = 2000
    @Option(help: "Generation: anomalies (none, 0.001, all=N, CLASS=N,...).") var anomalies: String = "none"
    @Option(help: "Generation: business time zone (also sets the business_timezone var).") var businessTimezone: String?

    /// The generator's spec, zoned in the business time zone `vars` name (or UTC).
    func spec(vars: [String: String]) throws -> GeneratorSpec {
        guard let day = CalendarDate(start) else { throw ValidationError("--start '\(start)' is not a date") }
        let parsed = try flag("--anomalies") { try AnomalySpec(parsing: anomalies) }
        let spec = GeneratorSpec(seed: seed, start: day, days: days, ordersPerDay: ordersPerDay, anomalies: parsed,
                                 businessTimeZone: businessTimezone ?? vars["business_timezone"] ?? "UTC")
        try generatorFlags { try spec.validate() }
        return spec
    }
}

/// A generator error, named by its command-line flag.
func generatorFlags(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as GeneratorError {
        let name = error.field.map { "--" + $0.rawValue.replacingOccurrences(of: "_", with: "-") + " " } ?? ""
        throw ValidationError(name + error.message)
    }
}

extension Recon {
    struct Audit: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The whole run: database, schemas, load (or generate), build, every check, reports; exit code as a CI gate.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var pipelineOptions: PipelineOptions
        @OptionGroup var checks: CheckOptions
        @OptionGroup var generation: GenerationOptions

        @Option(help: "The dataset directory (DATA_CONTRACT.md section 1).")
        var data: String?

        @Flag(help: "Leave the run's schemas in place at the end (with --db).")
        var keepSchemas = false

        func validate() throws {
            guard (data != nil) != generation.generate else { throw ValidationError("give exactly one of --data DIR and --generate") }
        }

        func run() throws {
            let logger = global.bootstrapLogging()
            var request = try checks.request(pipeline: pipelineOptions)
            var source = DataSource.directory(data ?? "")
            if generation.generate {
                let spec = try generation.spec(vars: request.vars)
                source = .generate(spec)
                if request.vars["business_timezone"] == nil { request.vars["business_timezone"] = spec.businessTimeZone }
            }
            try runChecked(quiet: global.quiet, failOn: checks.failOn, reports: checks.reports) {
                try Orchestrator.run(request, kind: .ephemeral(database: database.choice, source: source, keepSchemas: keepSchemas),
                                     interrupts: interrupts, logger: logger, progress: global.progress)
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Evaluate an expectations file against tables that already exist (qualified schema.table names); builds nothing.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var checks: CheckOptions

        @Option(help: ArgumentHelp("PostgreSQL URL of the warehouse to check (default: RECON_DATABASE_URL or PG*).", valueName: "url"))
        var db: String?

        @Option(help: "Business time zone for hour -> day roll-ups.")
        var businessTimezone: String = "UTC"

        @Option(name: .customLong("run"), help: ArgumentHelp("Check a run kept with --keep-schemas: model names resolve to its schemas.", valueName: "run-id"))
        var keptRun: String?

        @Option(help: "The pipeline folder (model names and layers, with --run).")
        var pipeline: String = "pipeline"

        func validate() throws {
            if let keptRun, RunID(keptRun) == nil { throw ValidationError("--run '\(keptRun)' is not a run id") }
        }

        func run() throws {
            let logger = global.bootstrapLogging()
            guard case .server(let target) = DatabaseChoice.resolve(db: db) else {
                throw ValidationError("check evaluates an existing warehouse: pass --db URL")
            }
            var request = try checks.request(pipeline: nil)
            // With a kept run, model names resolve to its schemas; otherwise names are taken as they are.
            request.pipelineDirectory = keptRun == nil ? nil : pipeline
            request.vars["business_timezone"] = businessTimezone
            request.tasks = [.runChecks, .writeReports]
            try runChecked(quiet: global.quiet, failOn: checks.failOn, reports: checks.reports) {
                try Orchestrator.run(request, kind: .existing(target: target, tables: keptRun.flatMap(RunID.init).map { .keptRun($0) } ?? .asWritten),
                                     interrupts: interrupts, logger: logger, progress: global.progress)
            }
        }
    }
}
