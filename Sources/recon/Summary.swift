import ArgumentParser
import FundRecon
import Foundation

/// Runs a run's body, maps its failures to their exit codes, prints the one-screen summary, and
/// exits with the result's own code (0 pass, 1 a check failed, 3 a check could not be evaluated).
func runChecked(quiet: Bool, failOn: Severity, reports: String, _ body: () throws -> RunResult) throws {
    let run = try handlingFailures(body)
    interrupts.holdIfInterrupted()
    let code = run.audit.exitCode(failOn: failOn)
    if !quiet || code != 0 { printSummary(run.audit, reports: reports, files: run.reportFiles) }
    if code != 0 { throw ExitCode(code) }
}

/// The one-screen summary: checks per layer and status, failures with their first sample row.
func printSummary(_ result: AuditResult, reports: String, files: [String]) {
    print("")
    // The waived column only when a waiver covered a check.
    let waived = result.summary.waived > 0
    print("layer  checks   pass   warn   fail  error" + (waived ? " waived" : ""))
    func figures(_ s: CheckSummary) -> String {
        ([s.checks, s.pass, s.warn, s.fail, s.error] + (waived ? [s.waived] : [])).map { String($0).leftPadded(7) }.joined()
    }
    for (layer, checks) in Dictionary(grouping: result.checks, by: \.layer).sorted(by: { $0.key < $1.key }) {
        print(layer.name.padding(toLength: 5, withPad: " ", startingAt: 0) + figures(CheckSummary(checks)))
    }
    print("total" + figures(result.summary))
    let problems = result.checks.filter { $0.status != .pass }
    if !problems.isEmpty { print("") }
    for check in problems.prefix(25) {
        let detail = check.status == .error ? (check.message ?? "") : check.outcome + (check.judgement.map { " (\($0))" } ?? "")
        print("\(check.status.rawValue.uppercased().padding(toLength: 5, withPad: " ", startingAt: 0)) \(check.id): \(detail)")
        if let row = check.sample.first, let columns = check.sampleColumns {
            let shown = columns.prefix(8).map { "\($0)=\(row[$0]?.text ?? "")" }.joined(separator: " ")
            print("      first: \(shown)")
        }
    }
    if problems.count > 25 { print("      ... and \(problems.count - 25) more in the reports") }
    print("")
    // The files this run wrote, as written: nothing is named that is not there.
    let names = files.map { URL(fileURLWithPath: $0).lastPathComponent }
    if !names.isEmpty { print("reports: \(reports)/ (\(names.joined(separator: ", ")))") }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}

/// A command's machine-readable report (`--report-json`): sorted, indented, snake_case keys.
func writeReportJSON(_ value: some Encodable, to path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    try encoder.encode(value).write(to: URL(fileURLWithPath: path))
}
