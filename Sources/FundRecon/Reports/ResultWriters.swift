import Foundation

/// Writes results.json and junit.xml from an `AuditResult`.
public enum ResultWriters {
    /// results.json, exactly as EXPECTATIONS.md shows it.
    public static func json(_ result: AuditResult) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(result)
    }

    /// JUnit XML: one testsuite per layer, one testcase per check (classname = layer.type, name = id);
    /// a fail is a <failure>, an error an <error>, a warn passes with its detail in <system-out>.
    public static func junit(_ result: AuditResult) -> String {
        let byLayer = Dictionary(grouping: result.checks, by: \.layer)
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        let total = CheckSummary(result.checks)
        let seconds = result.checks.reduce(0) { $0 + $1.durationMS }
        xml += "<testsuites name=\"recon \(escape(result.runID))\" tests=\"\(total.checks)\" failures=\"\(total.fail)\" "
            + "errors=\"\(total.error)\" time=\"\(time(seconds))\">\n"
        for (layer, checks) in byLayer.sorted(by: { $0.key < $1.key }) {
            let summary = CheckSummary(checks)
            xml += "  <testsuite name=\"\(escape(layer))\" tests=\"\(summary.checks)\" failures=\"\(summary.fail)\" "
                + "errors=\"\(summary.error)\" skipped=\"0\" time=\"\(time(checks.reduce(0) { $0 + $1.durationMS }))\" "
                + "timestamp=\"\(escape(String(result.startedAt.prefix(19))))\">\n"
            for check in checks {
                xml += "    <testcase classname=\"\(escape(layer)).\(escape(check.type))\" name=\"\(escape(check.id))\" "
                    + "time=\"\(time(check.durationMS))\""
                let detail = details(check)
                switch check.status {
                case .pass:
                    xml += "/>\n"
                case .warn:
                    xml += ">\n      <system-out>\(escape("warning: " + message(check) + "\n" + detail))</system-out>\n    </testcase>\n"
                case .fail:
                    xml += ">\n      <failure message=\"\(escape(message(check)))\" type=\"\(escape(check.type))\">"
                        + "\(escape(detail))</failure>\n    </testcase>\n"
                case .error:
                    xml += ">\n      <error message=\"\(escape(check.message ?? "could not be evaluated"))\" type=\"error\">"
                        + "\(escape(check.sql))</error>\n    </testcase>\n"
                }
            }
            xml += "  </testsuite>\n"
        }
        return xml + "</testsuites>\n"
    }

    /// Observed against expected, in one line.
    public static func message(_ check: CheckResult) -> String {
        var text = "\(check.failingRows) failing row\(check.failingRows == 1 ? "" : "s"), expected 0"
        if check.type == "reconcile", case .object(let classes)? = check.observed["classes"] {
            let parts = classes.sorted { $0.key < $1.key }.compactMap { name, value -> String? in
                guard case .object(let figures) = value, figures["count"] != .number(0) else { return nil }
                return "\(name) \(figures["count"]?.text ?? "0") (\(figures["amount"]?.text ?? "0"))"
            }
            text += "; " + parts.joined(separator: ", ")
        }
        return text
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

    /// Escapes text for XML content and attributes; drops characters XML 1.0 cannot hold.
    public static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            case "\n", "\t", "\r": result.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || (scalar.value >= 0xFFFE && scalar.value <= 0xFFFF) { continue }
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
