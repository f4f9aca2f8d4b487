import ArgumentParser
import FundRecon
import Foundation
import Postgres

extension Recon {
    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What a pipeline change does to the money: builds the base and head pipelines on one load and compares them.",
            discussion: """
                The sources are loaded once; the head pipeline (the working tree, or --head REF) and the base \
                (--base REF of the same git repository, or --base-dir DIR, a second checkout) are built side by side in \
                one database and their expectations evaluated. Every model present in both is compared in PostgreSQL: \
                structure, rows by the model's key (unique_key config, a unique index, or a unique check; otherwise a \
                multiset), changed cells, and the change of every money column (numeric with scale 2) per currency, \
                period, month and merchant. Models whose SQL, vars and inputs are the same on both sides are equal by \
                construction and not scanned (--all-models scans them too).

                Writes diff.md (for a pull-request comment), diff.html, diff-junit.xml and diff.json into --reports. \
                Exit 1 when the change breaks a rule of --fail-on: any (any difference), money (a total per currency \
                moved by more than --money-tolerance), checks (a check newly failing or failing on more rows), closed \
                (a change in a period at or before --closed-through), none. 2 bad usage or files, 3 a runtime failure.
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var pipelineOptions: PipelineOptions
        @OptionGroup var generation: GenerationOptions

        @Option(help: ArgumentHelp("The git revision to compare against (a branch, tag or commit of the pipeline's repository).", valueName: "ref"))
        var base: String?

        @Option(help: ArgumentHelp("A second checkout to compare against, instead of --base.", valueName: "dir"))
        var baseDir: String?

        @Option(help: ArgumentHelp("The git revision of the head side (default: the working tree).", valueName: "ref"))
        var head: String?

        @Option(help: "The expectations file (the same path on both sides).")
        var expectations: String = "expectations/fund_recon.yml"

        @Option(help: "The dataset directory (DATA_CONTRACT.md section 1).")
        var data: String?

        @Option(help: "Where diff.md, diff.html, diff-junit.xml and diff.json are written.")
        var reports: String = "reports"

        @Option(help: ArgumentHelp("Changes in a partition at or before this date change a closed period.", valueName: "yyyy-mm-dd"))
        var closedThrough: String?

        @Option(help: ArgumentHelp("What fails the diff (comma-separated): any, money, checks, closed, none.", valueName: "rules"))
        var failOn: String = "closed,checks"

        @Option(help: ArgumentHelp("With --fail-on money: the change of a total per currency that still passes.", valueName: "amount"))
        var moneyTolerance: String = "0.00"

        @Option(help: "Statement timeout per check, in seconds.")
        var checkTimeout: Int = 60

        @Flag(help: "Also compare models whose SQL, vars and inputs are the same on both sides.")
        var allModels = false

        @Flag(help: "Leave both sides' schemas in place at the end (with --db).")
        var keepSchemas = false

        func validate() throws {
            guard (base != nil) != (baseDir != nil) else { throw ValidationError("give exactly one of --base REF and --base-dir DIR") }
            guard (data != nil) != generation.generate else { throw ValidationError("give exactly one of --data DIR and --generate") }
            if let closedThrough, CalendarDate(closedThrough) == nil {
                throw ValidationError("--closed-through '\(closedThrough)' is not a date (yyyy-mm-dd)")
            }
            guard let tolerance = Cents(moneyTolerance), tolerance.rawValue >= 0 else {
                throw ValidationError("--money-tolerance '\(moneyTolerance)' is not an amount (like 0.00 or 5)")
            }
            _ = try flag("--fail-on") { try DiffPolicy(parsing: failOn, moneyTolerance: tolerance) }
            guard checkTimeout > 0 else { throw ValidationError("--check-timeout must be positive") }
        }

        func run() throws {
            let logger = global.bootstrapLogging()
            let outcome = try handlingFailures { () -> DiffOutcome in
                let scratch = TemporaryFiles.path(.diff)
                defer { TemporaryFiles.remove(scratch) }
                let pipeline = pipelineOptions.pipeline
                let headSide = try DiffSides.resolve(head.map { .revision($0) } ?? .workingTree, pipeline: pipeline,
                                                     expectations: expectations, scratch: scratch + "/head")
                let baseSide = try DiffSides.resolve(base.map { .revision($0) } ?? .directory(baseDir ?? ""), pipeline: pipeline,
                                                     expectations: expectations, scratch: scratch + "/base")
                var vars = try pipelineOptions.overrides()
                var source = DataSource.directory(data ?? "")
                if generation.generate {
                    let spec = try generation.spec(vars: vars)
                    source = .generate(spec)
                    if vars["business_timezone"] == nil, generation.businessTimezone != nil { vars["business_timezone"] = spec.businessTimeZone }
                }
                var request = DiffRequest(base: baseSide, head: headSide, source: source, database: database.choice)
                request.vars = vars
                request.closedThrough = closedThrough.flatMap(CalendarDate.init)
                request.policy = try DiffPolicy(parsing: failOn, moneyTolerance: Cents(moneyTolerance) ?? Cents(0))
                request.reportsDirectory = reports
                request.checkTimeoutMilliseconds = checkTimeout * 1000
                request.compareAll = allModels
                request.keepSchemas = keepSchemas
                return try DiffRunner.run(request, interrupts: interrupts, logger: logger, progress: global.progress)
            }
            interrupts.holdIfInterrupted()
            if !global.quiet || outcome.exitCode != 0 {
                print(DiffReports.summary(outcome.result, violations: outcome.violations))
                print("reports: \(reports)/ (diff.md, diff.html, diff-junit.xml, diff.json)")
            }
            if outcome.exitCode != 0 { throw ExitCode(outcome.exitCode) }
        }
    }
}
