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
        @OptionGroup var dataset: DatasetRunOptions

        func run() throws {
            let report = try dataset.run([.initializeETLEnvironment, .importMainData, .importResellerData], pipeline: nil,
                                         database: database, global: global).outputs.load
            if let reportJSON = dataset.reportJSON { try writeReportJSON(report.files, to: reportJSON) }
            guard !global.quiet else { return }
            func column(_ value: Int) -> String { String(value).leftPadded(11) }
            print("source      files       read     loaded   rejected")
            for (source, entry) in report.totals.sorted(by: { $0.key < $1.key }) {
                print(source.padding(toLength: 8, withPad: " ", startingAt: 0) + column(entry.files).dropFirst(4)
                    + column(entry.read) + column(entry.loaded) + column(entry.rejected))
            }
            for file in report.files where file.status != .loaded || file.rowsRejected > 0 {
                var line = "  \(file.file): \(file.status.rawValue)"
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
