import ArgumentParser
import FundRecon
import Foundation

extension Recon {
    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The monthly audit pack for finance (HTML and XLSX): statements, gateway summary, breaks with aging, checks, sign-off.",
            discussion: """
                Builds the month from --data, reads a run kept with `recon audit --keep-schemas` (--db URL --run ID), \
                or reads a persistent warehouse's published month (--db URL --schema-prefix NAME: nothing is built, \
                so a pack regenerated after `recon close` shows the sign-offs). \
                Writes monthly-YYYY-MM.html and .xlsx, junit.xml and results.json (--format picks) and exits as \
                `recon audit` does: 0 every error-severity check passed, 1 one failed, 2 bad usage or files, 3 a runtime \
                failure. The pack is written in every case; a failed check is its appendix and the exit code says so.
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var pipelineOptions: PipelineOptions
        @OptionGroup var checks: CheckOptions

        @Option(help: ArgumentHelp("The month to report.", valueName: "YYYY-MM"))
        var month: String

        @Option(help: "The dataset directory to build the month from.")
        var data: String?

        @Option(name: .customLong("run"), help: ArgumentHelp("A run kept with --keep-schemas on --db.", valueName: "run-id"))
        var keptRun: String?

        @Option(help: ArgumentHelp("A persistent warehouse on --db (`recon run --schema-prefix`): its published month.",
                                   valueName: "name"))
        var schemaPrefix: String?

        func validate() throws {
            guard month.range(of: "^[0-9]{4}-(0[1-9]|1[0-2])$", options: .regularExpression) != nil else {
                throw ValidationError("--month must be YYYY-MM")
            }
            guard [data != nil, keptRun != nil, schemaPrefix != nil].filter({ $0 }).count == 1 else {
                throw ValidationError("give exactly one of --data DIR, --run ID and --schema-prefix NAME")
            }
            if let schemaPrefix { try flag("--schema-prefix") { try WarehousePrefix.validate(schemaPrefix) } }
            if let keptRun, RunID(keptRun) == nil { throw ValidationError("--run '\(keptRun)' is not a run id (r<timestamp>_<hex>)") }
        }

        func run() throws {
            let logger = global.bootstrapLogging()
            var request = try checks.request(pipeline: pipelineOptions)
            request.month = month
            var kind = RunKind.ephemeral(database: database.choice, source: .directory(data ?? ""), keepSchemas: false)
            if let runID = keptRun.flatMap(RunID.init) {
                kind = .existing(target: try database.server("--run reads kept schemas: pass --db URL"), tables: .keptRun(runID))
                request.tasks = [.runChecks, .writeReports]
            } else if let schemaPrefix {
                let period = try Period(parsing: month, grain: .month)
                kind = .existing(target: try database.server("--schema-prefix reads a persistent warehouse: pass --db URL"),
                                 tables: .warehouse(prefix: schemaPrefix, month: period))
                request.tasks = [.runChecks, .writeReports]
            }
            // The pack is written whatever the checks say; the exit code is the gate's, as `audit`'s.
            try runChecked(quiet: global.quiet, failOn: checks.failOn, reports: checks.reports) {
                try Orchestrator.run(request, kind: kind, interrupts: interrupts, logger: logger, progress: global.progress)
            }
        }
    }
}
