import Foundation

/// The files of a diff: `diff.md` for a pull-request comment, `diff.html` with every table's
/// drill-down, `diff-junit.xml` (a test case per model and per check), `diff.json`.
public enum DiffReports {
    /// A pull-request comment's limit (GitHub takes 65,536 characters); the rest is in the HTML.
    static let markdownLimit = 60_000

    /// Writes the four files into `directory`; returns their paths.
    public static func write(_ result: DiffResult, violations: [String], policy: DiffPolicy, to directory: String) throws -> [String] {
        try ReportWriter.prepare(directory: directory)
        let files: [(String, String)] = [
            ("diff.md", markdown(result, violations: violations, policy: policy)),
            ("diff.html", html(result, violations: violations, policy: policy)),
            ("diff-junit.xml", junit(result, violations: violations, policy: policy)),
            ("diff.json", try json(result, violations: violations, policy: policy)),
        ]
        return try files.map { name, text in
            let path = directory + "/" + name
            try ReportWriter.save(Data(text.utf8), to: path)
            return path
        }
    }

    static func policyText(_ policy: DiffPolicy) -> String {
        var text = DiffPolicy.Rule.allCases.filter(policy.rules.contains).map(\.rawValue).joined(separator: ",")
        if policy.rules.contains(.money) { text += " (money tolerance \(policy.moneyTolerance))" }
        return text
    }

    // MARK: Terminal

    /// What the terminal shows: the verdict, the changed models with their cause, the checks.
    public static func summary(_ result: DiffResult, violations: [String]) -> String {
        var lines = ["diff \(result.base) -> \(result.head)"]
        let changed = result.changedModels
        if changed.isEmpty { lines.append("no model's output differs") }
        for model in changed {
            lines.append("  \(model.model): \(model.summary)" + (model.causes.isEmpty ? "" : " (from \(model.causes.joined(separator: ", ")))")
                + (model.sqlChanged ? " [SQL changed]" : ""))
            for money in model.money.filter({ $0.dimension == "total" }).prefix(4) {
                lines.append("      \(money.column) \(money.currency) \(signed(money.delta))")
            }
        }
        let cosmetic = result.models.filter { $0.sqlChanged && !$0.isChanged }.map(\.model)
        if !cosmetic.isEmpty { lines.append("  SQL changed, same output: " + cosmetic.joined(separator: ", ")) }
        for check in result.checks { lines.append("  check \(check.description)") }
        lines.append(violations.isEmpty ? "PASS: the change breaks no rule of --fail-on" : "FAIL:")
        lines += violations.map { "  " + $0 }
        return lines.joined(separator: "\n")
    }

    // MARK: Markdown

    static func markdown(_ result: DiffResult, violations: [String], policy: DiffPolicy) -> String {
        func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }
        var head = "## FundRecon diff: `\(cell(result.base))` → `\(cell(result.head))`\n\n"
        head += violations.isEmpty ? "**✅ Passes** `--fail-on \(policyText(policy))`\n\n"
                                   : "**❌ Fails** `--fail-on \(policyText(policy))`:\n\n" + violations.map { "- \(cell($0))\n" }.joined() + "\n"
        head += "Dataset: \(cell(result.dataset))"
        if let closed = result.closedThrough { head += " · closed through \(closed)" }
        head += "\n\n"
        var body = ""
        let changed = result.changedModels
        if changed.isEmpty {
            body += "No model's output differs.\n\n"
        } else {
            body += "### Models changed\n\n| Model | Change | Cause |\n|---|---|---|\n"
            for model in changed {
                let cause = ([model.sqlChanged ? "its SQL changed" : nil] + [model.causes.isEmpty ? nil : "upstream: " + model.causes.joined(separator: ", ")])
                    .compactMap { $0 }.joined(separator: "; ")
                body += "| `\(model.model)` | \(cell(model.summary)) | \(cell(cause)) |\n"
            }
            body += "\n"
        }
        let cosmetic = result.models.filter { $0.sqlChanged && !$0.isChanged }.map { "`\($0.model)`" }
        if !cosmetic.isEmpty { body += "SQL changed with the same output: \(cosmetic.joined(separator: ", ")).\n\n" }
        if !result.vars.isEmpty { body += "Vars changed: \(cell(result.vars.joined(separator: "; "))).\n\n" }
        if !result.seeds.isEmpty { body += "Seeds changed: \(result.seeds.joined(separator: ", ")).\n\n" }
        let totals = changed.flatMap { model in model.money.filter { $0.dimension == "total" }.map { (model.model, $0) } }
        if !totals.isEmpty {
            body += "### Money, per currency\n\n| Model | Column | Currency | Base | Head | Change |\n|---|---|---|--:|--:|--:|\n"
            for (model, money) in totals {
                body += "| `\(model)` | \(money.column) | \(money.currency) | \(HTMLReport.amount(money.base)) | \(HTMLReport.amount(money.head)) "
                    + "| **\(HTMLReport.amount(signed(money.delta)))** |\n"
            }
            body += "\n"
        }
        if let breaks = result.breaks, breaks.hasRowChanges {
            body += "### Breaks\n\n\(breaks.added) added, \(breaks.removed) resolved, \(breaks.changed) changed (`\(breaks.model)`).\n\n"
        }
        if let closed = result.closedThrough {
            let models = result.closedChanges
            body += "### Closed periods (through \(closed))\n\n"
            body += models.isEmpty ? "No change touches a closed period.\n\n"
                : models.map { model in
                    "- `\(model.model)`: \(model.closedRows) row\(model.closedRows == 1 ? "" : "s")" + model.closedMoney.filter { $0.dimension == "total" }
                        .map { "; \($0.column) \($0.currency) \(signed($0.delta))" }.joined() + "\n"
                }.joined() + "\n"
        }
        if !result.checks.isEmpty {
            body += "### Checks\n\n| Check | Base | Head | Failing rows |\n|---|---|---|--:|\n"
            for check in result.checks {
                body += "| `\(check.id)` | \(check.base) | \(check.isWorse ? "**\(check.head)**" : check.head) | \(check.baseFailingRows) → \(check.headFailingRows) |\n"
            }
            body += "\n"
        }
        var detail = ""
        for model in changed where !model.money.isEmpty || !model.samples.isEmpty {
            detail += "<details><summary><code>\(model.model)</code>: \(cell(model.summary))</summary>\n\n"
            let periods = model.money.filter { $0.dimension != "total" }.prefix(10)
            if !periods.isEmpty {
                detail += "| By | Value | Column | Currency | Change |\n|---|---|---|---|--:|\n"
                detail += periods.map { "| \($0.dimension) | \($0.value) | \($0.column) | \($0.currency) | \(signed($0.delta)) |\n" }.joined() + "\n"
            }
            for sample in model.samples.prefix(10) { detail += "- \(cell(sample.description))\n" }
            detail += "\n</details>\n\n"
        }
        let footer = "\n_Row samples, every period and merchant: `diff.html`. Figures: `diff.json`._\n"
        var text = head + body
        if text.count + detail.count + footer.count <= markdownLimit {
            text += detail
        } else {
            text += "_Per-model detail left out to fit a comment: see `diff.html`._\n"
        }
        if text.count + footer.count > markdownLimit {
            text = String(text.prefix(markdownLimit - footer.count - 40)) + "\n\n_… cut here: see `diff.html`._\n"
        }
        return text + footer
    }

    // MARK: HTML

    static func html(_ result: DiffResult, violations: [String], policy: DiffPolicy) -> String {
        let e = Markup.escape
        var html = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>FundRecon diff</title><style>\(HTMLReport.css)\(css)</style></head><body>"
        html += "<h1>Diff: \(e(result.base)) → \(e(result.head))</h1>"
        html += violations.isEmpty ? "<p class=\"verdict pass\">Passes --fail-on \(e(policyText(policy)))</p>"
            : "<p class=\"verdict fail\">Fails --fail-on \(e(policyText(policy)))</p><ul>" + violations.map { "<li>\(e($0))</li>" }.joined() + "</ul>"
        html += "<table class=\"facts\"><tr><th>Dataset</th><td>\(e(result.dataset))</td></tr>"
        if let closed = result.closedThrough { html += "<tr><th>Closed through</th><td>\(e(closed))</td></tr>" }
        if !result.vars.isEmpty { html += "<tr><th>Vars changed</th><td>\(e(result.vars.joined(separator: "; ")))</td></tr>" }
        if !result.seeds.isEmpty { html += "<tr><th>Seeds changed</th><td>\(e(result.seeds.joined(separator: ", ")))</td></tr>" }
        let timings = result.timings.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.1f", Double($0.value) / 1000)) s" }
        html += "<tr><th>Time</th><td>\(e(timings.joined(separator: ", ")))</td></tr></table>"

        html += "<h2>Models</h2><table><tr><th>Model</th><th>Layer</th><th>Change</th><th>SQL</th><th>Cause</th><th>Key</th></tr>"
        for model in result.models where model.status != .sameInputs || model.sqlChanged {
            let name = model.isChanged ? "<a href=\"#m-\(e(model.model))\">\(e(model.model))</a>" : e(model.model)
            html += "<tr><td>\(name)</td><td>\(e(model.layer))</td><td class=\"\(model.isChanged ? "chg" : "")\">\(e(model.summary))</td>"
                + "<td>\(model.sqlChanged ? "changed" : "")</td><td>\(e(model.causes.joined(separator: ", ")))</td>"
                + "<td class=\"muted\">\(e(model.key.isEmpty ? model.keySource : model.key.joined(separator: ", ")))</td></tr>"
        }
        html += "</table>"
        let same = result.models.filter { $0.status == .sameInputs && !$0.sqlChanged }.map(\.model)
        if !same.isEmpty { html += "<p class=\"muted\">Same SQL, vars and inputs on both sides (equal by construction): \(e(same.joined(separator: ", ")))</p>" }

        let totals = result.changedModels.flatMap { model in model.money.filter { $0.dimension == "total" }.map { (model.model, $0) } }
        if !totals.isEmpty {
            html += "<h2>Money, per currency</h2><table><tr><th>Model</th><th>Column</th><th>Currency</th><th class=\"n\">Base</th>"
                + "<th class=\"n\">Head</th><th class=\"n\">Change</th></tr>"
            for (model, money) in totals {
                html += "<tr><td><a href=\"#m-\(e(model))\">\(e(model))</a></td><td>\(e(money.column))</td><td>\(e(money.currency))</td>"
                    + "<td class=\"n\">\(HTMLReport.money(money.base))</td><td class=\"n\">\(HTMLReport.money(money.head))</td>"
                    + "<td class=\"n chg\">\(HTMLReport.money(signed(money.delta)))</td></tr>"
            }
            html += "</table>"
        }
        if !result.checks.isEmpty {
            html += "<h2>Checks</h2><table><tr><th>Check</th><th>Base</th><th>Head</th><th class=\"n\">Failing rows</th></tr>"
            for check in result.checks {
                html += "<tr><td>\(e(check.id))</td><td>\(e(check.base))</td><td class=\"\(check.isWorse ? "fail" : "")\">\(e(check.head))</td>"
                    + "<td class=\"n\">\(check.baseFailingRows) → \(check.headFailingRows)</td></tr>"
            }
            html += "</table>"
        }
        for model in result.changedModels { html += section(model) }
        return html + "<footer>FundRecon diff · \(e(result.base)) → \(e(result.head))</footer></body></html>\n"
    }

    /// One changed model: what changed and why, rows per column, closed periods, money by every
    /// dimension, sample rows (also golden's view of a table against its expected file).
    static func section(_ model: ModelDiff) -> String {
        let e = Markup.escape
        var html = "<h2 id=\"m-\(e(model.model))\">\(e(model.model))</h2><p>\(e(model.summary))"
        html += model.causes.isEmpty ? "" : " · caused by \(e(model.causes.joined(separator: ", ")))"
        html += model.sqlChanged ? " · its SQL changed" : ""
        html += " · rows \(model.rowsBase) → \(model.rowsHead) · key: \(e(model.key.isEmpty ? model.keySource : model.key.joined(separator: ", ") + " (" + model.keySource + ")"))</p>"
        if !model.changedColumns.isEmpty {
            html += "<p>Changed rows per column: " + model.changedColumns.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
                .map { "\(e($0.key)) \($0.value)" }.joined(separator: ", ") + "</p>"
        }
        if model.closedRows > 0 || !model.closedMoney.isEmpty {
            html += "<p class=\"closed\">Closed period: \(model.closedRows) row\(model.closedRows == 1 ? "" : "s")"
                + e(model.closedMoney.filter { $0.dimension == "total" }.map { "; \($0.column) \($0.currency) \(signed($0.delta))" }.joined()) + "</p>"
        }
        if !model.money.isEmpty {
            html += "<details open><summary>Money</summary><table><tr><th>By</th><th>Value</th><th>Column</th><th>Currency</th>"
                + "<th class=\"n\">Base</th><th class=\"n\">Head</th><th class=\"n\">Change</th></tr>"
            for money in model.money {
                html += "<tr><td>\(e(money.dimension))</td><td>\(e(money.value))</td><td>\(e(money.column))</td><td>\(e(money.currency))</td>"
                    + "<td class=\"n\">\(HTMLReport.money(money.base))</td><td class=\"n\">\(HTMLReport.money(money.head))</td>"
                    + "<td class=\"n chg\">\(HTMLReport.money(signed(money.delta)))</td></tr>"
            }
            html += "</table></details>"
        }
        if !model.samples.isEmpty { html += "<details open><summary>Rows (the first of each kind, in key order)</summary>" + samples(model) + "</details>" }
        return html
    }

    /// Sample rows as a table per kind; changed cells show both values, highlighted.
    static func samples(_ model: ModelDiff) -> String {
        let e = Markup.escape
        var html = ""
        let changed = model.samples.filter { $0.kind == .changed }
        if !changed.isEmpty {
            let keyColumns = model.key
            let columns = Array(Set(changed.flatMap { $0.columns.map(\.column) })).sorted()
            html += "<h3>Changed</h3><table class=\"sample\"><tr>" + (keyColumns + columns).map { "<th>\(e($0))</th>" }.joined() + "</tr>"
            for row in changed {
                let cells = Dictionary(row.columns.map { ($0.column, $0) }, uniquingKeysWith: { a, _ in a })
                html += "<tr>" + keyColumns.map { "<td>\(e(row.key[$0] ?? ""))</td>" }.joined()
                html += columns.map { column in
                    guard let change = cells[column] else { return "<td></td>" }
                    return "<td class=\"cell\"><del>\(e(change.base ?? "NULL"))</del> <ins>\(e(change.head ?? "NULL"))</ins>"
                        + (change.difference.map { " <small>(\(e(signed($0))))</small>" } ?? "") + "</td>"
                }.joined() + "</tr>"
            }
            html += "</table>"
        }
        for kind in [RowChange.Kind.added, .removed] {
            let rows = model.samples.filter { $0.kind == kind }
            guard !rows.isEmpty else { continue }
            let columns = Array(Set(rows.flatMap(\.row.keys))).sorted()
            html += "<h3>\(kind == .added ? "Added" : "Removed")</h3><table class=\"sample \(kind.rawValue)\"><tr>"
                + columns.map { "<th>\(e($0))</th>" }.joined() + "</tr>"
            html += rows.map { row in "<tr>" + columns.map { "<td>\(e(row.row[$0] ?? ""))</td>" }.joined() + "</tr>" }.joined() + "</table>"
        }
        return html
    }

    static let css = """
        td.chg{background:#fef9c3}td.cell ins{background:#dcfce7;text-decoration:none;font-weight:600}
        td.cell del{background:#fee2e2;color:#991b1b}table.added td{background:#f0fdf4}table.removed td{background:#fef2f2}
        p.closed{color:#991b1b;font-weight:600}table.facts td{overflow-wrap:anywhere}
        """

    // MARK: JUnit

    static func junit(_ result: DiffResult, violations: [String], policy: DiffPolicy) -> String {
        let e = Markup.escape
        var cases: [String] = []
        var failures = 0
        for model in result.models {
            var reasons: [String] = []
            if policy.rules.contains(.any) && model.isChanged { reasons.append(model.summary) }
            if policy.rules.contains(.money) {
                reasons += policy.moneyBeyondTolerance(model).map { "\($0.column) \($0.currency) \(signed($0.delta))" }
            }
            if policy.rules.contains(.closed), model.closedRows > 0 || !model.closedMoney.isEmpty {
                reasons.append("changes the closed period through \(result.closedThrough ?? ""): \(model.closedRows) rows")
            }
            var text = "    <testcase classname=\"diff.model.\(e(model.layer))\" name=\"\(e(model.model))\""
            if reasons.isEmpty {
                text += model.isChanged ? "><system-out>\(e(model.summary))</system-out></testcase>" : "/>"
            } else {
                failures += 1
                let detail = ([model.summary] + model.causes.map { "caused by \($0)" } + model.samples.prefix(10).map(\.description)).joined(separator: "\n")
                text += "><failure message=\"\(e(reasons.joined(separator: "; ")))\" type=\"diff\">\(e(detail))</failure></testcase>"
            }
            cases.append(text)
        }
        // Every check of either side; a check whose outcome moved fails the case when the policy says so.
        let moved = Set(result.checks.map(\.id))
        for change in (result.checkOutcomes.isEmpty ? result.checks : result.checkOutcomes) {
            let changed = moved.contains(change.id)
            let fails = changed && ((policy.rules.contains(.checks) && change.isWorse) || policy.rules.contains(.any))
            var text = "    <testcase classname=\"diff.check\" name=\"\(e(change.id))\""
            if fails {
                failures += 1
                text += "><failure message=\"\(e(change.description))\" type=\"diff\"/></testcase>"
            } else if changed {
                text += "><system-out>\(e(change.description))</system-out></testcase>"
            } else {
                text += "/>"
            }
            cases.append(text)
        }
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"recon diff\" tests=\"\(cases.count)\" failures=\"\(failures)\">\n"
            + "  <testsuite name=\"diff\" tests=\"\(cases.count)\" failures=\"\(failures)\" errors=\"0\">\n"
            + "    <properties><property name=\"base\" value=\"\(e(result.base))\"/><property name=\"head\" value=\"\(e(result.head))\"/>"
            + "<property name=\"fail_on\" value=\"\(e(policyText(policy)))\"/></properties>\n"
            + cases.joined(separator: "\n") + "\n  </testsuite>\n</testsuites>\n"
    }

    // MARK: JSON

    struct Document: Encodable {
        var passed: Bool
        var failOn: String
        var violations: [String]
        var diff: DiffResult
        enum CodingKeys: String, CodingKey {
            case passed, violations, diff
            case failOn = "fail_on"
        }
    }

    static func json(_ result: DiffResult, violations: [String], policy: DiffPolicy) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(Document(passed: violations.isEmpty, failOn: policyText(policy), violations: violations, diff: result))
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
