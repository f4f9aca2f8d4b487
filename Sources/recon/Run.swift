import ArgumentParser
import FundRecon
import Foundation
import Postgres

/// Options of the persistent warehouse commands (`recon run`, `recon backfill`).
struct WarehouseOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "PostgreSQL URL of the persistent warehouse (default: RECON_DATABASE_URL or PG*; the embedded cluster is not persistent).",
        valueName: "url"))
    var db: String?

    @Option(help: ArgumentHelp("The warehouse's schemas are <prefix>_oltp ... <prefix>_ads.", valueName: "name"))
    var schemaPrefix: String

    @Option(help: "The period's grain.")
    var grain: Grain = .day

    @Option(help: "The landing folder (DATA_CONTRACT.md layout): new rows and files are loaded from it.")
    var data: String?

    @Option(help: ArgumentHelp("Run only these tasks (comma-separated; see `recon dag`).", valueName: "task,..."),
            transform: { try CommaSeparated<TaskID>.parse($0, naming: "task", among: TaskID.seed) })
    var tasks: CommaSeparated<TaskID>?

    @Flag(help: "When another run holds the prefix, stop at once (exit 3) instead of waiting for it.")
    var noWait = false

    @Option(help: ArgumentHelp("How long to wait for another run of the prefix, in seconds.", valueName: "seconds"))
    var lockWait: Int = 3600

    @Flag(help: "Build and publish even when nothing the build reads changed since the last build.")
    var rebuild = false

    func validate() throws {
        guard lockWait > 0 else { throw ValidationError("--lock-wait must be positive") }
        try flag("--schema-prefix") { try WarehousePrefix.validate(schemaPrefix) }
    }

    func target() throws -> ConnectionTarget {
        guard case .server(let target) = DatabaseChoice.resolve(db: db) else {
            throw ValidationError("a persistent warehouse needs a database that outlives the run: pass --db URL or set RECON_DATABASE_URL")
        }
        return target
    }

    func period(_ text: String) throws -> Period {
        try flag("--period") { try Period(parsing: text, grain: grain) }
    }

    /// The run of one period: what `recon run` opens.
    func kind(period: Period) throws -> RunKind {
        var options = PeriodRunOptions(target: try target(), prefix: schemaPrefix, period: period)
        if data == nil && !Set(tasks?.values ?? TaskID.seed).isDisjoint(with: [.importMainData, .importResellerData]) {
            throw ValidationError("the import tasks need the landing folder: give --data DIR (or --tasks without them)")
        }
        options.dataDirectory = data
        options.waitForLock = !noWait
        options.lockWaitSeconds = lockWait
        options.rebuild = rebuild
        return .period(options)
    }

    func request(checks: CheckOptions, pipeline: PipelineOptions) throws -> RunRequest {
        var request = try checks.request(pipeline: pipeline)
        request.tasks = tasks?.values ?? TaskID.seed
        return request
    }
}

extension Recon {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One period of a persistent warehouse: load what is new, rebuild the changed partitions, check the period.",
            discussion: """
                Loads OLTP rows after each extract's watermark and files not loaded before (by SHA-256), rebuilds \
                DWD/DWS/ADS in staging schemas and publishes only the partitions whose rows changed (a changed \
                partition of a closed period is reported as a restatement), evaluates the checks scoped to the \
                period, and records runs, tasks and check results in recon_meta. One run per schema prefix at a \
                time (the second waits, or exits 3 with --no-wait). Exit codes as `recon audit`.
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var warehouse: WarehouseOptions
        @OptionGroup var pipelineOptions: PipelineOptions
        @OptionGroup var checks: CheckOptions

        @Option(help: ArgumentHelp("The period: 2026-10-03T10 (hour), 2026-10-03 (day) or 2026-10 (month), in business time.",
                                   valueName: "period"))
        var period: String

        func validate() throws {
            _ = try warehouse.period(period)
        }

        func run() throws {
            let logger = global.bootstrapLogging()
            let parsed = try warehouse.period(period)
            let request = try warehouse.request(checks: checks, pipeline: pipelineOptions)
            try runChecked(quiet: global.quiet, failOn: checks.failOn, reports: checks.reports) {
                try Orchestrator.run(request, kind: try warehouse.kind(period: parsed), interrupts: interrupts, logger: logger,
                                     progress: global.progress)
            }
        }
    }

    struct Backfill: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay `recon run` for every period from --from through --to, in order.",
            discussion: """
                Each period is one run (loads, partitions, scoped checks, history). Replaying a period gives the \
                same tables; files that arrived late land in their own period's partitions. Stops at the first \
                runtime failure; the exit code is the highest of the runs.
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var warehouse: WarehouseOptions
        @OptionGroup var pipelineOptions: PipelineOptions
        @OptionGroup var checks: CheckOptions

        @Option(help: ArgumentHelp("The first period.", valueName: "period")) var from: String
        @Option(help: ArgumentHelp("The last period (included).", valueName: "period")) var to: String

        func validate() throws {
            guard try warehouse.period(from).localStart <= warehouse.period(to).localStart else {
                throw ValidationError("--from \(from) is after --to \(to)")
            }
        }

        func run() throws {
            let logger = global.bootstrapLogging()
            let periods = Period.range(from: try warehouse.period(from), through: try warehouse.period(to))
            let quiet = global.quiet
            let verbose = global.verbose
            var worst: Int32 = 0
            var lines: [String] = []
            for (index, period) in periods.enumerated() {
                if !quiet { print("recon: backfill \(index + 1)/\(periods.count): \(period)") }
                var request = try warehouse.request(checks: checks, pipeline: pipelineOptions)
                request.reportsDirectory = checks.reports + "/" + period.description
                let result = try handlingFailures {
                    try Orchestrator.run(request, kind: try warehouse.kind(period: period), interrupts: interrupts, logger: logger) { line in
                        if verbose { print("recon:   \(line)") }
                    }
                }.audit
                let code = result.exitCode(failOn: checks.failOn)
                worst = max(worst, code)
                let s = result.summary
                lines.append("\(period)  \(s.pass)/\(s.checks) pass, \(s.fail) fail, \(s.error) error, "
                    + "\(result.restatements?.count ?? 0) restated, \(result.partitionsReplaced ?? 0) partitions written  exit \(code)")
            }
            if !quiet || worst != 0 {
                print("")
                lines.forEach { print($0) }
                print("reports: \(checks.reports)/<period>/")
            }
            if worst != 0 { throw ExitCode(worst) }
        }
    }
}
