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

    @Option(help: ArgumentHelp("The period's grain.", valueName: "hour|day|month"))
    var grain: String = "day"

    @Option(help: "The landing folder (DATA_CONTRACT.md layout): new rows and files are loaded from it.")
    var data: String?

    @Option(help: ArgumentHelp("Run only these tasks (comma-separated; see `recon dag`).", valueName: "task,..."))
    var tasks: String?

    @Flag(help: "When another run holds the prefix, stop at once (exit 3) instead of waiting for it.")
    var noWait = false

    @Option(help: ArgumentHelp("How long to wait for another run of the prefix, in seconds.", valueName: "seconds"))
    var lockWait: Int = 3600

    @Flag(help: "Build and publish even when nothing the build reads changed since the last build.")
    var rebuild = false

    var parsedGrain: Grain? { Grain(rawValue: grain) }

    func validate() throws {
        guard parsedGrain != nil else { throw ValidationError("--grain must be hour, day or month, not '\(grain)'") }
        guard lockWait > 0 else { throw ValidationError("--lock-wait must be positive") }
        do { try WarehouseRunner.validate(prefix: schemaPrefix) } catch { throw ValidationError("\(error)") }
        for name in (tasks ?? "").split(separator: ",") where !TaskName.all.contains(String(name)) {
            throw ValidationError("--tasks: unknown task '\(name)' (\(TaskName.all.joined(separator: ", ")))")
        }
    }

    func target() throws -> ConnectionTarget {
        guard case .server(let target) = DatabaseChoice.resolve(db: db) else {
            throw ValidationError("a persistent warehouse needs a database that outlives the run: pass --db URL or set RECON_DATABASE_URL")
        }
        return target
    }

    func period(_ text: String) throws -> Period {
        do { return try Period(parsing: text, grain: parsedGrain ?? .day) } catch { throw ValidationError("\(error)") }
    }

    func options(period: Period, checks: CheckOptions, pipeline: PipelineOptions) throws -> PersistentRunOptions {
        let target = try target()
        var options = PersistentRunOptions(
            target: target, displayName: target.description, prefix: schemaPrefix, period: period,
            expectationsPath: checks.expectations, reportsDirectory: checks.reports, pipelineDirectory: pipeline.pipeline)
        options.dataDirectory = data
        options.vars = try pipeline.overrides()
        options.tags = checks.tagSet
        options.checkTimeoutMilliseconds = checks.checkTimeout * 1000
        options.formats = checks.formats
        options.tasks = tasks.map { Set($0.split(separator: ",").map(String.init)) }
        options.waitForLock = !noWait
        options.lockWaitSeconds = lockWait
        options.rebuild = rebuild
        options.asOf = checks.asOfDate
        return options
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

        func run() throws {
            let logger = global.bootstrapLogging()
            let parsed = try warehouse.period(period)
            let options = try warehouse.options(period: parsed, checks: checks, pipeline: pipelineOptions)
            let interrupts = Interrupts()
            interrupts.install()
            let quiet = global.quiet
            let pack = parsed.grain == .month ? "monthly-\(parsed)" : "recon-report"
            try runAudit(quiet: quiet, failOn: checks.severity, reports: checks.reports, pack: pack) {
                try WarehouseRunner.run(options, interrupts: interrupts, logger: logger) { line in
                    if !quiet { print("recon: \(line)") }
                }
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

        func run() throws {
            let logger = global.bootstrapLogging()
            let first = try warehouse.period(from)
            let last = try warehouse.period(to)
            guard first.localStart <= last.localStart else { throw ValidationError("--from \(from) is after --to \(to)") }
            let periods = Period.range(from: first, through: last)
            let interrupts = Interrupts()
            interrupts.install()
            let quiet = global.quiet
            var worst: Int32 = 0
            var lines: [String] = []
            for (index, period) in periods.enumerated() {
                if !quiet { print("recon: backfill \(index + 1)/\(periods.count): \(period)") }
                var options = try warehouse.options(period: period, checks: checks, pipeline: pipelineOptions)
                options.reportsDirectory = checks.reports + "/" + period.description
                let result = try exitingOnFailure {
                    try WarehouseRunner.run(options, interrupts: interrupts, logger: logger) { line in
                        if global.verbose { print("recon:   \(line)") }
                    }
                }
                let code = result.exitCode(failOn: checks.severity)
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
