import ArgumentParser
import FundRecon
import Foundation
import Postgres

/// Options of commands that evaluate checks.
struct CheckOptions: ParsableArguments {
    @Option(help: "The expectations file.")
    var expectations: String = "expectations/fund_recon.yml"

    @Option(help: "Where results.json and junit.xml are written.")
    var reports: String = "reports"

    @Option(help: ArgumentHelp("Exit 1 on failed error checks only, or on warnings too.", valueName: "error|warn"))
    var failOn: String = "error"

    @Option(help: "Only checks with one of these tags (comma-separated).")
    var tags: String?

    @Option(help: "Statement timeout per check, in seconds.")
    var checkTimeout: Int = 60

    @Option(help: ArgumentHelp("The instant freshness is judged against (ISO 8601); default: the data's latest order (recon run: the period's end).", valueName: "timestamp"))
    var asOf: String?

    @Option(help: ArgumentHelp("Reports to write.", valueName: "html,xlsx,junit,json"))
    var format: String = "html,xlsx,junit,json"

    var formats: Set<ReportFormat> { Set(format.split(separator: ",").compactMap { ReportFormat(rawValue: $0.trimmingCharacters(in: .whitespaces)) }) }

    func validate() throws {
        guard failOn == "error" || failOn == "warn" else { throw ValidationError("--fail-on must be error or warn") }
        guard checkTimeout > 0 else { throw ValidationError("--check-timeout must be positive") }
        if let asOf, TimestampParser.parse(asOf) == nil { throw ValidationError("--as-of '\(asOf)' is not an ISO 8601 timestamp with offset") }
        for name in format.split(separator: ",") where ReportFormat(rawValue: name.trimmingCharacters(in: .whitespaces)) == nil {
            throw ValidationError("--format: unknown report '\(name)' (html, xlsx, junit, json)")
        }
    }

    var tagSet: Set<String> { Set((tags ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) }
    var severity: Severity { failOn == "warn" ? .warn : .error }
    var asOfDate: Date? { asOf.flatMap { TimestampParser.parse($0) } }
}

/// Runs an audit-like body, mapping every documented failure to its exit code, then prints the
/// summary and exits with the result's own code.
func runAudit(quiet: Bool, failOn: Severity, reports: String, pack: String = "recon-report", gate: Bool = true,
              _ body: () throws -> AuditResult) throws {
    let result = try exitingOnFailure(body)
    if !quiet || result.exitCode(failOn: failOn) != 0 { printSummary(result, reports: reports, pack: pack) }
    let code = result.exitCode(failOn: failOn)
    if code != 0 && gate { throw ExitCode(code) }
}

/// The one-screen summary: checks per layer and status, failures with their first sample row.
func printSummary(_ result: AuditResult, reports: String, pack: String = "recon-report") {
    print("")
    print("layer  checks   pass   warn   fail  error")
    for (layer, checks) in Dictionary(grouping: result.checks, by: \.layer).sorted(by: { $0.key < $1.key }) {
        let s = CheckSummary(checks)
        print(layer.padding(toLength: 5, withPad: " ", startingAt: 0) + [s.checks, s.pass, s.warn, s.fail, s.error]
            .map { String($0).leftPadded(7) }.joined())
    }
    let s = result.summary
    print("total" + [s.checks, s.pass, s.warn, s.fail, s.error].map { String($0).leftPadded(7) }.joined())
    let problems = result.checks.filter { $0.status != .pass }
    if !problems.isEmpty { print("") }
    for check in problems.prefix(25) {
        let detail = check.status == .error ? (check.message ?? "") : ResultWriters.message(check)
        print("\(check.status.rawValue.uppercased().padding(toLength: 5, withPad: " ", startingAt: 0)) \(check.id): \(detail)")
        if let row = check.sample.first, let columns = check.sampleColumns {
            let shown = columns.prefix(8).map { "\($0)=\(row[$0]?.text ?? "")" }.joined(separator: " ")
            print("      first: \(shown)")
        }
    }
    if problems.count > 25 { print("      ... and \(problems.count - 25) more in the reports") }
    print("")
    print("reports: \(reports)/ (\(pack).html, \(pack).xlsx, junit.xml, results.json)")
}

extension Recon {
    struct Audit: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The whole run: database, schemas, load (or generate), build, every check, reports; exit code as a CI gate.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var pipelineOptions: PipelineOptions
        @OptionGroup var checks: CheckOptions

        @Option(help: "The dataset directory (DATA_CONTRACT.md section 1).")
        var data: String?

        @Flag(help: "Generate the dataset instead (see the generation options).")
        var generate = false

        @Option(help: "Generation: random seed.") var seed: UInt64 = 42
        @Option(help: "Generation: first day.") var start: String = "2026-10-01"
        @Option(help: "Generation: days.") var days: Int = 31
        @Option(help: "Generation: average orders per day.") var ordersPerDay: Int = 2000
        @Option(help: "Generation: anomalies (none, 0.001, all=N, CLASS=N,...).") var anomalies: String = "none"
        @Option(help: "Generation: business time zone (also sets the business_timezone var).") var businessTimezone: String?

        @Flag(help: "Leave the run's schemas in place at the end (with --db).")
        var keepSchemas = false

        func validate() throws {
            guard (data != nil) != generate else { throw ValidationError("give exactly one of --data DIR and --generate") }
        }

        func run() throws {
            let logger = global.bootstrapLogging()
            var vars = try pipelineOptions.overrides()
            var spec: GeneratorSpec?
            if generate {
                guard let day = CalendarDate(start) else { throw ValidationError("--start '\(start)' is not a date") }
                let parsed: AnomalySpec
                do { parsed = try AnomalySpec(parsing: anomalies) } catch { throw ValidationError("\(error)") }
                let zone = businessTimezone ?? vars["business_timezone"] ?? "UTC"
                spec = GeneratorSpec(seed: seed, start: day, days: days, ordersPerDay: ordersPerDay, anomalies: parsed,
                                     businessTimeZone: zone)
                do { try spec?.validate() } catch { throw ValidationError("\(error)") }
                if vars["business_timezone"] == nil { vars["business_timezone"] = zone }
            }
            var options = AuditOptions(dataDirectory: data, generate: spec, expectationsPath: checks.expectations,
                                       reportsDirectory: checks.reports, pipelineDirectory: pipelineOptions.pipeline)
            options.vars = vars
            options.keepSchemas = keepSchemas
            options.tags = checks.tagSet
            options.checkTimeoutMilliseconds = checks.checkTimeout * 1000
            options.asOf = checks.asOfDate
            options.database = database.choice
            options.formats = checks.formats
            let interrupts = Interrupts()
            interrupts.install()
            let quiet = global.quiet
            try runAudit(quiet: quiet, failOn: checks.severity, reports: checks.reports) {
                try AuditRunner.run(options, interrupts: interrupts, logger: logger) { line in
                    if !quiet { print("recon: \(line)") }
                }
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
            try runAudit(quiet: global.quiet, failOn: checks.severity, reports: checks.reports) {
                try AuditRunner.check(
                    expectationsPath: checks.expectations, target: target, displayName: target.description,
                    reportsDirectory: checks.reports, tags: checks.tagSet, timeoutMilliseconds: checks.checkTimeout * 1000,
                    businessTimeZone: businessTimezone, asOf: checks.asOfDate, logger: logger,
                    keptRun: keptRun.flatMap(RunID.init), pipelineDirectory: pipeline, formats: checks.formats)
            }
        }
    }
}
