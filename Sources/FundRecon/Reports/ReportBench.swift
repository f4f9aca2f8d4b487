import Foundation

/// Writes the HTML and XLSX reports of a synthetic run with many breaks, for `make bench`. The
/// breaks are generated one at a time into the workbook, as a run streams them from PostgreSQL.
package enum ReportBench {
    package static func write(breaks count: Int, to directory: String) throws {
        let types = ["missing_settlement", "settlement_amount_mismatch", "late_settlement", "fee_mismatch"]
        func row(_ index: Int) -> ReportData.BreakRow {
            let cents = index % 100_000
            let amount = "\(cents / 100).\(String(format: "%02d", cents % 100))"
            return ReportData.BreakRow(
                breakType: types[index % types.count], entityType: "payment", entityKey: String(500_000 + index),
                merchantID: String(index % 500), gateway: index % 2 == 0 ? "stripe" : "adyen", currency: index % 3 == 0 ? "EUR" : "USD",
                bizDate: "2026-10-\(String(format: "%02d", 1 + index % 28))", expected: amount, actual: "0.00", difference: "-" + amount,
                ageDays: index % 40, detail: "no settlement line")
        }
        var data = ReportData()
        data.breaks = (0..<min(count, 200)).map(row)
        data.breakCount = count
        data.breakTypes = types.map { ReportData.BreakType(breakType: $0, count: count / types.count, amount: "0.00", aging: [0, 0, 0, 0, 0]) }
        let result = AuditResult(runID: "bench", startedAt: "", finishedAt: "", database: "none", summary: CheckSummary([]),
                                 checks: [], stages: [], expectations: nil)
        var writer = ReportWriter(directory: directory, formats: [.html, .xlsx])
        writer.prefix = "bench"
        try writer.write(result, inputs: ReportInputs(figures: data, context: ReportContext())) { sink in
            for index in 0..<count { try sink(row(index)) }
        }
    }
}
