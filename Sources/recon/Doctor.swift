import ArgumentParser
import FundRecon
import Foundation
import Postgres

extension Recon {
    struct Doctor: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that this machine can run FundRecon, and optionally that --db is usable.")

        @OptionGroup var global: GlobalOptions

        @Option(name: .long, help: ArgumentHelp("Also check this PostgreSQL URL.", valueName: "url"))
        var db: String?

        func run() throws {
            let logger = global.bootstrapLogging()
            let findings = FundRecon.Doctor.examine(server: db.map { ConnectionTarget.url($0) }, logger: logger)
            for finding in findings {
                print("\(finding.ok ? "ok  " : "FAIL") \(finding.subject): \(finding.detail)")
                if let fix = finding.fix { print("     fix: \(fix)") }
            }
            let problems = findings.filter { !$0.ok }.count
            print(problems == 0 ? "all checks passed" : "\(problems) problem(s) found")
            if problems > 0 { throw ExitCode(3) }
        }
    }
}
