import ArgumentParser
import FundRecon
import Foundation
import Postgres

extension Recon {
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a deterministic synthetic dataset in the contract's layout, with injected anomalies.",
            discussion: """
                The same arguments give byte-identical files on any machine. manifest.json lists every injected \
                anomaly with its class, the rule it breaks, the keys it touched and the money it moves.
                --anomalies: none | a rate such as 0.001 | CLASS=N[,CLASS=N...] | all=N
                """)

        @OptionGroup var global: GlobalOptions

        @Option(help: "Directory to write (created if missing).")
        var out: String

        @Option(help: "Random seed.")
        var seed: UInt64 = 42

        @Option(help: ArgumentHelp("First business day.", valueName: "YYYY-MM-DD"))
        var start: String

        @Option(help: "Number of days.")
        var days: Int

        @Option(help: "Average orders per day.")
        var ordersPerDay: Int

        @Option(help: "Number of merchants.")
        var merchants: Int = 20

        @Option(help: "Number of resellers.")
        var resellers: Int = 4

        @Option(help: "Anomalies to inject.")
        var anomalies: String = "none"

        @Option(help: ArgumentHelp("IANA zone of business days and hours.", valueName: "TZ"))
        var businessTimezone: String = "UTC"

        func run() throws {
            let logger = global.bootstrapLogging()
            guard let startDate = CalendarDate(start) else {
                throw ValidationError("--start '\(start)' is not a date (YYYY-MM-DD)")
            }
            let anomalySpec = try flag("--anomalies") { try AnomalySpec(parsing: anomalies) }
            let spec = GeneratorSpec(
                seed: seed, start: startDate, days: days, ordersPerDay: ordersPerDay, merchants: merchants,
                resellers: resellers, anomalies: anomalySpec, businessTimeZone: businessTimezone)
            try generatorFlags { try spec.validate() }
            let started = ContinuousClock.now
            let report = try handlingFailures { try DatasetGenerator.generate(spec, to: out, logger: logger) }
            let seconds = Double(milliseconds(since: started)) / 1000
            if !global.quiet {
                print("wrote \(report.files) files to \(out): \(report.orders) orders in \(String(format: "%.2f", seconds)) s")
                for (kind, rows) in report.rows.sorted(by: { $0.key < $1.key }) { print("  \(kind): \(rows) rows") }
                print("anomalies injected: \(report.anomalies.count) (listed in \(out)/manifest.json)")
            }
            for (anomaly, count) in report.unplaced.sorted(by: { $0.key < $1.key }) {
                FileHandle.standardError.write(Data(
                    "recon: warning: \(count) \(anomaly.rawValue) anomaly(ies) could not be placed: the dataset is too small\n".utf8))
            }
        }
    }
}
