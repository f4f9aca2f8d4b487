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
        // Nothing that differs from run to run in names or messages: CI compares reports across runs.
        xml += "<testsuites name=\"recon\" tests=\"\(total.checks)\" failures=\"\(total.fail)\" "
            + "errors=\"\(total.error)\" time=\"\(time(seconds))\">\n"
        var properties: [(String, String)] = [("run_id", result.runID)]
        if let evidence = result.evidence {
            properties += [("tool_version", evidence.toolVersion), ("expectations_sha256", evidence.expectationsSHA256 ?? ""),
                           ("pipeline_commit", evidence.pipelineCommit ?? ""), ("as_of", evidence.asOf ?? "")]
        }
        let propertiesXML = "    <properties>\n" + properties.filter { !$0.1.isEmpty }.map {
            "      <property name=\"\(Markup.escape($0.0))\" value=\"\(Markup.escape($0.1))\"/>\n"
        }.joined() + "    </properties>\n"
        let file = result.expectations.map { " file=\"\(Markup.escape($0))\"" } ?? ""
        for (layer, checks) in byLayer.sorted(by: { $0.key < $1.key }) {
            let layer = layer.name
            let summary = CheckSummary(checks)
            xml += "  <testsuite name=\"\(Markup.escape(layer))\" tests=\"\(summary.checks)\" failures=\"\(summary.fail)\" "
                + "errors=\"\(summary.error)\" skipped=\"0\" time=\"\(time(checks.reduce(0) { $0 + $1.durationMS }))\" "
                + "timestamp=\"\(Markup.escape(String(result.startedAt.prefix(19))))\">\n" + propertiesXML
            for check in checks {
                xml += "    <testcase classname=\"\(Markup.escape(layer)).\(Markup.escape(check.type))\" name=\"\(Markup.escape(check.id))\" "
                    + "time=\"\(time(check.durationMS))\"\(file)" + (check.line.map { " line=\"\($0)\"" } ?? "")
                let detail = details(check)
                switch check.status {
                case .pass:
                    xml += "/>\n"
                case .warn:
                    xml += ">\n      <system-out>\(Markup.escape("warning: " + check.outcome + "\n" + detail))</system-out>\n    </testcase>\n"
                case .waived:
                    xml += ">\n      <system-out>\(Markup.escape("waived: " + (check.judgement ?? check.outcome) + "\n" + detail))</system-out>\n    </testcase>\n"
                case .fail:
                    xml += ">\n      <failure message=\"\(Markup.escape(failureMessage(check)))\" type=\"\(Markup.escape(check.type))\">"
                        + "\(Markup.escape(detail))</failure>\n    </testcase>\n"
                case .error:
                    xml += ">\n      <error message=\"\(Markup.escape(logical(check.message ?? "could not be evaluated")))\" type=\"error\">"
                        + "\(Markup.escape(logical(check.sql)))</error>\n    </testcase>\n"
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
        return text + "sql:\n" + logical(check.sql)
    }

    /// The rule broken, on what, how often, and the first failing key: `unique on dwd_orders: 2
    /// failing rows, expected 0; first: order_id=1001`.
    static func failureMessage(_ check: CheckResult) -> String {
        var message = "\(check.type) on \(check.table): \(check.outcome)"
        if let row = check.sample.first, let columns = check.sampleColumns {
            message += "; first: " + columns.prefix(4).map { "\($0)=\(row[$0]?.text ?? "")" }.joined(separator: " ")
        }
        if let judgement = check.judgement { message += " (\(judgement))" }
        return message
    }

    /// Text with the run's schema names (`"rc_<run>_dwd".`) taken out: tables by their model names.
    static func logical(_ text: String) -> String {
        text.replacingOccurrences(of: #""rc_r[0-9]{14}_[0-9a-f]{6}_(oltp|ods|dwd|dws|ads)"\."#, with: "", options: .regularExpression)
    }

    static func time(_ milliseconds: Int) -> String { String(format: "%.3f", Double(milliseconds) / 1000) }
}
