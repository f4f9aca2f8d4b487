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

        @Option(help: ArgumentHelp("The folder of a local server (`recon server start --dir`); .recon/pg when it holds one.",
                                   valueName: "dir"))
        var serverDir: String?

        func run() throws {
            let logger = global.bootstrapLogging()
            var findings = FundRecon.Doctor.examine(server: db.map { ConnectionTarget.url($0) }, logger: logger)
            if let local = LocalServer(directory: serverDir ?? ".recon/pg").finding(asked: serverDir != nil) { findings.append(local) }
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
