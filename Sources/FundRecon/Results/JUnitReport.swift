import Foundation

/// junit.xml for CI: one testsuite per layer, one testcase per check (EXPECTATIONS.md "Results").
public enum JUnitReport {
    /// JUnit XML: one testsuite per layer, one testcase per check (classname = layer.type, name = id);
    /// a fail is a <failure>, an error an <error>, a warn passes with its detail in <system-out>.
    public static func render(_ result: AuditResult) -> String {
        let byLayer = Dictionary(grouping: result.checks, by: \.layer)
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        let total = CheckSummary(result.checks)
        let seconds = result.checks.reduce(0) { $0 + $1.durationMS }
        xml += "<testsuites name=\"recon \(Markup.escape(result.runID))\" tests=\"\(total.checks)\" failures=\"\(total.fail)\" "
            + "errors=\"\(total.error)\" time=\"\(time(seconds))\">\n"
        for (layer, checks) in byLayer.sorted(by: { $0.key < $1.key }) {
            let layer = layer.name
            let summary = CheckSummary(checks)
            xml += "  <testsuite name=\"\(Markup.escape(layer))\" tests=\"\(summary.checks)\" failures=\"\(summary.fail)\" "
                + "errors=\"\(summary.error)\" skipped=\"0\" time=\"\(time(checks.reduce(0) { $0 + $1.durationMS }))\" "
                + "timestamp=\"\(Markup.escape(String(result.startedAt.prefix(19))))\">\n"
            for check in checks {
                xml += "    <testcase classname=\"\(Markup.escape(layer)).\(Markup.escape(check.type))\" name=\"\(Markup.escape(check.id))\" "
                    + "time=\"\(time(check.durationMS))\""
                let detail = details(check)
                switch check.status {
                case .pass:
                    xml += "/>\n"
                case .warn:
                    xml += ">\n      <system-out>\(Markup.escape("warning: " + check.outcome + "\n" + detail))</system-out>\n    </testcase>\n"
                case .waived:
                    xml += ">\n      <system-out>\(Markup.escape("waived: " + (check.judgement ?? check.outcome) + "\n" + detail))</system-out>\n    </testcase>\n"
                case .fail:
                    xml += ">\n      <failure message=\"\(Markup.escape(check.outcome))\" type=\"\(Markup.escape(check.type))\">"
                        + "\(Markup.escape(detail))</failure>\n    </testcase>\n"
                case .error:
                    xml += ">\n      <error message=\"\(Markup.escape(check.message ?? "could not be evaluated"))\" type=\"error\">"
                        + "\(Markup.escape(check.sql))</error>\n    </testcase>\n"
                }
            }
            xml += "  </testsuite>\n"
        }
        return xml + "</testsuites>\n"
    }

    static func details(_ check: CheckResult) -> String {
        var text = check.description.map { $0 + "\n" } ?? ""
        if let columns = check.sampleColumns, !check.sample.isEmpty {
            text += "sample:\n"
            for row in check.sample.prefix(20) {
                text += "  " + columns.map { "\($0)=\(row[$0]?.text ?? "")" }.joined(separator: " ") + "\n"
            }
        }
        return text + "sql:\n" + check.sql
    }

    static func time(_ milliseconds: Int) -> String { String(format: "%.3f", Double(milliseconds) / 1000) }
}
