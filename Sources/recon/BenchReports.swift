import ArgumentParser
import FundRecon

extension Recon {
    /// Writes the HTML and XLSX reports for a synthetic run with N breaks: `make bench` times it.
    struct BenchReports: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bench-reports", abstract: "Write reports for N synthetic breaks (for make bench).", shouldDisplay: false)

        @Option(help: "Break rows.") var breaks: Int = 1_000_000
        @Option(help: "Output folder.") var out: String

        func run() throws {
            try ReportBench.write(breaks: breaks, to: out)
        }
    }
}
