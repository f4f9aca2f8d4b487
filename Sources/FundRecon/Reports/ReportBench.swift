import Foundation

/// Writes the HTML and XLSX reports of a synthetic run with many breaks, for `make bench`.
public enum ReportBench {
    public static func write(breaks: Int, to directory: String) throws {
        var data = ReportData()
        let types = ["missing_settlement", "settlement_amount_mismatch", "late_settlement", "fee_mismatch"]
        data.breaks.reserveCapacity(breaks)
        for index in 0..<breaks {
            let cents = index % 100_000
            let amount = "\(cents / 100).\(String(format: "%02d", cents % 100))"
            data.breaks.append(ReportData.BreakRow(
                breakType: types[index % types.count], entityType: "payment", entityKey: String(500_000 + index),
                merchantID: String(index % 500), gateway: index % 2 == 0 ? "stripe" : "adyen", currency: index % 3 == 0 ? "EUR" : "USD",
                bizDate: "2026-10-\(String(format: "%02d", 1 + index % 28))", expected: amount, actual: "0.00", difference: "-" + amount,
                ageDays: index % 40, detail: "no settlement line"))
        }
        data.breakCount = breaks
        data.breakTypes = types.map { ReportData.BreakType(breakType: $0, count: breaks / types.count, amount: "0.00", aging: [0, 0, 0, 0]) }
        let result = AuditResult(runID: "bench", startedAt: "", finishedAt: "", database: "none", summary: CheckSummary([]),
                                 checks: [], stages: [], expectations: nil)
        try AuditRunner.write(result, data: data, context: ReportContext(), formats: [.html, .xlsx], to: directory, prefix: "bench")
    }
}
