import ArgumentParser
import FundRecon
import Foundation

extension Recon {
    struct Load: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load a dataset directory into a run's oltp and ods schemas, and report per file.",
            discussion: """
                Every source row ends in ODS or in ods_rejects (with file, line, raw record and reason); \
                rows read = rows loaded + rows rejected for every file (rule R11). Use --keep-schemas to \
                inspect the tables afterwards.
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var database: DatabaseOptions

        @Option(help: "The dataset directory (DATA_CONTRACT.md section 1).")
        var data: String

        @Flag(help: "Leave the run's schemas in place at the end.")
        var keepSchemas = false

        @Option(help: "Also write the load report as JSON to this file.")
        var reportJSON: String?

        func run() throws {
            let logger = global.bootstrapLogging()
            let interrupts = Interrupts()
            interrupts.install()
            let report: LoadReport = try exitingOnFailure {
                try database.withRun(keepSchemas: keepSchemas, interrupts: interrupts, logger: logger) { _, run in
                    if !global.quiet { print("run \(run.runID): loading \(data)") }
                    return try Ingest.load(dataset: data, schemas: run.schemas, connection: run.connection, logger: logger)
                }
            }
            if let reportJSON { try writeReportJSON(report.files, to: reportJSON) }
            guard !global.quiet else { return }
            func column(_ value: Int) -> String { String(value).leftPadded(11) }
            print("source      files       read     loaded   rejected")
            for (source, entry) in report.totals.sorted(by: { $0.key < $1.key }) {
                print(source.padding(toLength: 8, withPad: " ", startingAt: 0) + column(entry.files).dropFirst(4)
                    + column(entry.read) + column(entry.loaded) + column(entry.rejected))
            }
            for file in report.files where file.status != "loaded" || file.rowsRejected > 0 {
                var line = "  \(file.file): \(file.status)"
                if file.rowsRejected > 0 { line += ", \(file.rowsRejected) rejected" }
                if let first = file.duplicateOf { line += " (same content as \(first))" }
                print(line)
            }
            print(report.isConserved
                ? "every file: rows read = rows loaded + rows rejected (R11 holds)"
                : "R11 BROKEN: some file lost rows")
        }
    }
}
