import ArgumentParser
import FundRecon
import Foundation

extension Recon {
    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The monthly audit pack for finance (HTML and XLSX): statements, gateway summary, breaks with aging, checks, sign-off.",
            discussion: "Builds the month from --data, or reads a run kept with `recon audit --keep-schemas` (--db URL --run ID).")

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

        func validate() throws {
            guard month.range(of: "^[0-9]{4}-(0[1-9]|1[0-2])$", options: .regularExpression) != nil else {
                throw ValidationError("--month must be YYYY-MM")
            }
            guard (data != nil) != (keptRun != nil) else { throw ValidationError("give exactly one of --data DIR and --run ID") }
            if let keptRun, RunID(keptRun) == nil { throw ValidationError("--run '\(keptRun)' is not a run id (r<timestamp>_<hex>)") }
        }

        func run() throws {
            let logger = global.bootstrapLogging()
            var options = AuditOptions(dataDirectory: data, generate: nil, expectationsPath: checks.expectations,
                                       reportsDirectory: checks.reports, pipelineDirectory: pipelineOptions.pipeline)
            options.vars = try pipelineOptions.overrides()
            options.formats = checks.formats.intersection([.html, .xlsx])
            options.month = month
            options.database = database.choice
            options.checkTimeoutMilliseconds = checks.checkTimeout * 1000
            options.asOf = checks.asOfDate
            let interrupts = Interrupts()
            interrupts.install()
            let quiet = global.quiet
            // The pack is written whatever the checks say; failed checks are its appendix, not an error.
            try runAudit(quiet: quiet, failOn: .error, reports: checks.reports, gate: false) {
                if let keptRun, let runID = RunID(keptRun) {
                    guard case .server(let target) = database.choice else {
                        throw ValidationError("--run reads kept schemas: pass --db URL")
                    }
                    return try AuditRunner.monthlyFromKeptRun(runID: runID, target: target, displayName: target.description,
                                                              options: options, month: month, logger: logger)
                }
                return try AuditRunner.run(options, interrupts: interrupts, logger: logger) { line in
                    if !quiet { print("recon: \(line)") }
                }
            }
            print("monthly pack: \(checks.reports)/monthly-\(month).html and \(checks.reports)/monthly-\(month).xlsx")
        }
    }
}
