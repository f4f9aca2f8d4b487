import ArgumentParser
import FundRecon
import Foundation
import Postgres

/// Options shared by golden and coverage: where things are, and one database for all their runs.
struct RegressionOptions: ParsableArguments {
    @Option(help: "The pipeline folder.") var pipeline: String = "pipeline"
    @Option(help: "The expectations file.") var expectations: String = "expectations/fund_recon.yml"
    @Option(help: "Where reports are written.") var reports: String = "reports"
    @Option(help: ArgumentHelp("PostgreSQL URL; default: one embedded cluster for every run.", valueName: "url")) var db: String?
    @Option(help: ArgumentHelp("Each run on a throwaway Citus cluster of this many workers (distributed tables).",
                               valueName: "workers"))
    var embeddedCitus: Int?

    func validate() throws {
        if let embeddedCitus, embeddedCitus < 1 { throw ValidationError("--embedded-citus needs at least 1 worker") }
    }

    /// The database every run uses: the given server, a Citus cluster per run, or one shared embedded cluster.
    func database() throws -> DatabaseChoice {
        if let embeddedCitus { return .embeddedCitus(workers: embeddedCitus) }
        let choice = DatabaseChoice.resolve(db: db)
        guard case .embedded = choice else { return choice }
        return .server(try handlingFailures { try EmbeddedCluster.shared() })
    }
}

extension Recon {
    struct Golden: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Golden-data regression: rebuild golden datasets and compare every ADS table and check outcome.",
            subcommands: [GoldenCheck.self, GoldenUpdate.self])
    }

    struct GoldenCheck: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "check", abstract: "Compare golden datasets (all when none named); exit 1 on any difference.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var options: RegressionOptions
        @Option(help: "The golden folder.") var golden: String = "golden"
        @Argument(help: "Golden datasets to check.") var names: [String] = []

        func run() throws {
            let logger = global.bootstrapLogging()
            let selected = names.isEmpty ? GoldenSpec.names(root: golden) : names
            guard !selected.isEmpty else { throw ValidationError("no golden datasets in \(golden)/") }
            let database = try options.database()
            var outcomes: [GoldenOutcome] = []
            for name in selected {
                let outcome = try handlingFailures {
                    try GoldenRunner.run(try GoldenSpec.load(name: name, root: golden), pipeline: options.pipeline,
                                         expectations: options.expectations, database: database, update: false, logger: logger)
                }
                outcomes.append(outcome)
                printOutcome(outcome, verb: "differs from")
            }
            try FileManager.default.createDirectory(atPath: options.reports, withIntermediateDirectories: true)
            try Data(GoldenRunner.junit(outcomes).utf8).write(to: URL(fileURLWithPath: options.reports + "/golden-junit.xml"))
            try Data(GoldenRunner.html(outcomes).utf8).write(to: URL(fileURLWithPath: options.reports + "/golden-report.html"))
            print("reports: \(options.reports)/golden-report.html, \(options.reports)/golden-junit.xml")
            if outcomes.contains(where: { !$0.isEqual }) {
                print("golden check failed: if the change is deliberate, run `recon golden update NAME` and commit golden/")
                throw ExitCode(1)
            }
        }
    }

    struct GoldenUpdate: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "update", abstract: "Rewrite a golden dataset's expected outputs and print what changed.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var options: RegressionOptions
        @Option(help: "The golden folder.") var golden: String = "golden"
        @Argument(help: "Golden datasets to update.") var names: [String]

        func run() throws {
            let logger = global.bootstrapLogging()
            let database = try options.database()
            for name in names {
                let outcome = try handlingFailures {
                    try GoldenRunner.run(try GoldenSpec.load(name: name, root: golden), pipeline: options.pipeline,
                                         expectations: options.expectations, database: database, update: true, logger: logger)
                }
                printOutcome(outcome, verb: "changed against")
                print("\(name): expected outputs rewritten in \(golden)/\(name)/expected")
            }
        }
    }

    struct CoverageCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "coverage",
            abstract: "Inject each anomaly class alone into a clean dataset, audit it, and show which checks catch it; exit 1 if one is caught by none.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var options: RegressionOptions
        @Option(help: "Only these classes (comma-separated).") var classes: String?
        @Option(help: "First day of each dataset.") var start: String = "2026-10-01"
        @Option(help: "Days of each dataset.") var days: Int = 12
        @Option(help: "Orders per day of each dataset.") var ordersPerDay: Int = 60

        func run() throws {
            let logger = global.bootstrapLogging()
            var selected = AnomalyClass.allCases
            if let classes {
                selected = try classes.split(separator: ",").map { name in
                    guard let anomaly = AnomalyClass(rawValue: String(name)) else { throw ValidationError("unknown anomaly class '\(name)'") }
                    return anomaly
                }
            }
            guard let first = CalendarDate(start) else { throw ValidationError("--start '\(start)' is not a date") }
            let base = GeneratorSpec(seed: 7, start: first, days: days, ordersPerDay: ordersPerDay, businessTimeZone: "Europe/Berlin")
            let database = try options.database()
            let quiet = global.quiet
            let (rows, checks) = try handlingFailures {
                try Coverage.run(classes: selected, base: base, pipeline: options.pipeline, expectations: options.expectations,
                                 database: database, logger: logger) { if !quiet { print("recon: \($0)") } }
            }
            try FileManager.default.createDirectory(atPath: options.reports, withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(rows).write(to: URL(fileURLWithPath: options.reports + "/coverage.json"))
            try Data(Coverage.html(rows: rows, checks: checks).utf8).write(to: URL(fileURLWithPath: options.reports + "/coverage.html"))
            print("")
            print("class".padding(toLength: 34, withPad: " ", startingAt: 0) + "rule  caught by")
            for row in rows {
                print(row.anomalyClass.padding(toLength: 34, withPad: " ", startingAt: 0) + row.rule.padding(toLength: 6, withPad: " ", startingAt: 0)
                    + (row.caughtBy.isEmpty ? "NOTHING" : row.caughtBy.joined(separator: ", ")))
            }
            print("reports: \(options.reports)/coverage.html, \(options.reports)/coverage.json")
            let uncaught = rows.filter { $0.caughtBy.isEmpty }
            if !uncaught.isEmpty {
                print("coverage failed: no check catches " + uncaught.map { $0.anomalyClass }.joined(separator: ", "))
                throw ExitCode(1)
            }
        }
    }
}

func printOutcome(_ outcome: GoldenOutcome, verb: String) {
    if outcome.isEqual {
        print("\(outcome.name): equal (\(outcome.snapshots.map { "\($0.table) \($0.rows.count)" }.joined(separator: ", ")) rows; \(outcome.checkOutcomes.rows.count) check outcomes)")
        return
    }
    print("\(outcome.name) \(verb) its expected outputs:")
    for table in outcome.tables where table.isChanged {
        print("  \(table.model): \(table.summary)")
        for money in table.money.filter({ $0.dimension == "total" }).prefix(6) {
            print("    \(money.column) \(money.currency) \(signed(money.delta))")
        }
        for sample in table.samples.prefix(10) { print("    \(sample.description)") }
        let more = table.added + table.removed + table.changed - min(table.samples.count, 10)
        if more > 0 { print("    ... \(more) more row\(more == 1 ? "" : "s") (golden-report.html)") }
    }
    for change in outcome.checks { print("  check \(change.id): \(GoldenRunner.expectedGot(change))") }
}
