import Foundation
import Postgres

/// One self-contained HTML file (no network, no external CSS or script): header, summary per
/// layer, every check with its sample and SQL, breaks by type with aging, and inline SVG charts.
/// Every value that comes from data is escaped.
public enum HTMLReport {
    static func e(_ text: String) -> String { Markup.escape(text) }

    /// An amount with thousands separators, as finance reads it (`-12,345.60`, a change `+1,500.00`);
    /// other text as it is.
    static func amount(_ text: String) -> String {
        guard text.range(of: "^[-+]?[0-9]+(\\.[0-9]+)?$", options: .regularExpression) != nil else { return text }
        let sign = text.hasPrefix("-") || text.hasPrefix("+") ? String(text.prefix(1)) : ""
        let digits = String(text.dropFirst(sign.count))
        let parts = digits.split(separator: ".", maxSplits: 1)
        var whole = String(parts[0])
        var grouped = ""
        while whole.count > 3 {
            grouped = "," + whole.suffix(3) + grouped
            whole = String(whole.dropLast(3))
        }
        return sign + whole + grouped + (parts.count > 1 ? "." + parts[1] : "")
    }

    /// An amount cell, escaped and grouped.
    static func money(_ text: String) -> String { e(amount(text)) }

    /// Chart geometry only: money stays text everywhere else.
    static func number(_ text: String?) -> Double { Double(text ?? "") ?? 0 }

    /// The report. Printed (from a browser, or to PDF) every collapsible section opens, by the print
    /// CSS on a closed section's content (`::details-content`: Chromium 131, Firefox 143, Safari 18.4
    /// and later). The page holds no script.
    public static func render(_ result: AuditResult, data: ReportData?, context: ReportContext) -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(e(context.title)) \(e(result.runID))</title>
            <style>\(css)</style></head><body>
            """
        let gate = result.exitCode(failOn: .error)
        let verdict = gate == 0 ? ("pass", "All error checks passed") : gate == 1 ? ("fail", "Checks failed") : ("error", "Checks could not be evaluated")
        html += "<header><h1>\(e(context.title))</h1><p class=\"verdict \(verdict.0)\">\(verdict.1): "
            + "\(result.summary.pass) pass, \(result.summary.warn) warn, \(result.summary.fail) fail, "
            + (result.summary.waived > 0 ? "\(result.summary.waived) waived, " : "") + "\(result.summary.error) error</p>"
        html += "<table class=\"facts\">"
        var facts: [(String, String)] = [("Run", result.runID), ("Started", result.startedAt), ("Finished", result.finishedAt),
                                          ("Database", result.database), ("Dataset", context.dataset),
                                          ("Expectations", (result.expectations ?? "") + (context.expectationsSHA256.isEmpty ? "" : "  (SHA-256 \(context.expectationsSHA256))"))]
        if let commit = context.pipelineCommit { facts.append(("Pipeline commit", commit)) }
        if let month = context.month { facts.append(("Month", month)) }
        if let period = result.period { facts.append(("Period", period)) }
        for (name, value) in facts where !value.isEmpty { html += "<tr><th>\(e(name))</th><td>\(e(value))</td></tr>" }
        html += "</table>"
        if !result.stages.isEmpty {
            let tasks = Dictionary(result.tasks.map { ($0.task.rawValue, $0) }, uniquingKeysWith: { $1 })
            html += "<table class=\"stages\"><tr><th>Task</th><th>Status</th><th>Attempts</th><th>Rows</th><th>Time</th></tr>"
            for stage in result.stages {
                let task = tasks[stage.name]
                html += "<tr><td>\(e(stage.name))</td><td>\(e(task?.status.rawValue ?? "done"))</td><td class=\"n\">\(task?.attempts ?? 1)</td>"
                    + "<td class=\"n\">\(stage.rows)</td><td class=\"n\">\(stage.durationMS) ms</td></tr>"
            }
            html += "</table>"
        }
        html += "</header><main>"
        html += summary(result)
        // What finance may already have seen and has now changed comes before anything else.
        if !context.restatements.isEmpty { html += restatements(context.restatements) }
        if let data {
            if context.month != nil { html += statements(data) + gatewaySummary(data) + bridges(data) }
            html += breaks(data)
            html += charts(data)
        }
        if let register = context.breakRegister, let month = context.month { html += breakRegister(register, month: month, materiality: data?.breakMateriality) }
        html += checks(result, trend: context.trend)
        if let evidence = result.evidence { html += Self.evidence(evidence, waivers: result.waivers ?? []) }
        if context.month != nil { html += signOff(context.signOffs) }
        html += "</main><footer>Written by FundRecon from results.json of run \(e(result.runID)).</footer></body></html>\n"
        return html
    }

    static func statements(_ data: ReportData) -> String {
        // The header in <thead>: a printed statement repeats it on every page.
        var html = "<section><h2>Merchant statements</h2><table class=\"wide\"><thead><tr><th>Merchant</th><th>Name</th><th>Currency</th><th>Opening</th>"
            + "<th>Gross sales</th><th>Merchant discounts</th><th>Platform discounts</th><th>Refunds</th><th>Commission</th>"
            + "<th>Net payable</th><th>Payouts</th><th>Closing</th>"
            // Month over month only when the warehouse holds the prior month.
            + (data.priorStatements.isEmpty ? "" : "<th>Net payable, prior month</th><th>Change</th>") + "</tr></thead>"
        // Grouped by currency, each with its total line.
        for (currency, rows) in Dictionary(grouping: data.statements, by: \.currency).sorted(by: { $0.key < $1.key }) {
            var totals = Array(repeating: Cents(0), count: 9)
            for row in rows {
                let values = [row.opening, row.gross, row.merchantDiscount, row.platformDiscount, row.refunds, row.commission,
                              row.netPayable, row.payouts, row.closing]
                let prior = data.priorStatements["\(row.merchantID) \(row.currency)"]?.first
                let change = prior.flatMap(Cents.init).map { ((Cents(row.netPayable) ?? Cents(0)) - $0).description } ?? ""
                let flagged = ReportData.isVariance(prior: prior, now: row.netPayable)
                html += "<tr><td>\(row.merchantID)</td><td>\(e(row.merchantName))</td><td>\(e(row.currency))</td>"
                    + values.map { "<td class=\"n\">\(money($0))</td>" }.joined()
                    + (data.priorStatements.isEmpty ? ""
                        : "<td class=\"n\">\(money(prior ?? "new"))</td><td class=\"n\(flagged ? " variance" : "")\">\(money(change))</td>") + "</tr>"
                for (index, value) in values.enumerated() { totals[index] = totals[index] + (Cents(value) ?? Cents(0)) }
            }
            let priorTotal = data.priorStatements.filter { $0.key.hasSuffix(" " + currency) }.values
                .reduce(Cents(0)) { $0 + (Cents($1[0]) ?? Cents(0)) }
            html += "<tr class=\"subtotal\"><th colspan=\"2\">Total \(e(currency))</th><th>\(e(currency))</th>"
                + totals.map { "<th class=\"n\">\(money($0.description))</th>" }.joined()
                + (data.priorStatements.isEmpty ? ""
                    : "<th class=\"n\">\(money(priorTotal.description))</th><th class=\"n\">\(money((totals[6] - priorTotal).description))</th>") + "</tr>"
        }
        return html + "</table></section>"
    }

    /// Per gateway and currency, from what was captured to what is in transit; a total line per
    /// currency; an unexplained amount other than zero marked.
    static func bridges(_ data: ReportData) -> String {
        guard !data.bridges.isEmpty else { return "" }
        var html = "<section><h2>Gateway bridge</h2><table class=\"wide\"><thead><tr><th>Gateway</th><th>Currency</th>"
            + ReportData.bridgeColumns.map { "<th class=\"n\">\(e($0.label))</th>" }.joined() + "</tr></thead>"
        let unexplained = ReportData.bridgeColumns.firstIndex { $0.column == "unexplained" }!
        for (currency, rows) in Dictionary(grouping: data.bridges, by: { $0[1] }).sorted(by: { $0.key < $1.key }) {
            var totals = Array(repeating: Cents(0), count: ReportData.bridgeColumns.count)
            for row in rows {
                html += "<tr><td>\(e(row[0]))</td><td>\(e(row[1]))</td>"
                for (index, value) in row.dropFirst(2).enumerated() {
                    let flagged = index == unexplained && Cents(value) != Cents(0)
                    html += "<td class=\"n\(flagged ? " fail" : "")\">\(money(value))</td>"
                    totals[index] = totals[index] + (Cents(value) ?? Cents(0))
                }
                html += "</tr>"
            }
            html += "<tr class=\"subtotal\"><th>Total</th><th>\(e(currency))</th>" + totals.map { "<th class=\"n\">\(money($0.description))</th>" }.joined() + "</tr>"
        }
        html += "</table>"
        if !data.priorBridges.isEmpty {
            let gross = ReportData.bridgeColumns.firstIndex { $0.column == "settled_gross" }!
            html += "<h3>Compared with the prior month</h3><table class=\"wide\"><tr><th>Gateway</th><th>Currency</th><th class=\"n\">Settled gross, prior</th>"
                + "<th class=\"n\">Settled gross</th><th class=\"n\">Change</th><th class=\"n\">Unexplained, prior</th><th class=\"n\">Unexplained</th></tr>"
            for row in data.bridges {
                let prior = data.priorBridges["\(row[0]) \(row[1])"]
                let now = Array(row.dropFirst(2))
                let change = prior.flatMap { Cents($0[gross]) }.map { ((Cents(now[gross]) ?? Cents(0)) - $0).description } ?? ""
                let flagged = ReportData.isVariance(prior: prior?[gross], now: now[gross])
                html += "<tr><td>\(e(row[0]))</td><td>\(e(row[1]))</td><td class=\"n\">\(e(prior?[gross] ?? "none"))</td>"
                    + "<td class=\"n\">\(e(now[gross]))</td><td class=\"n\(flagged ? " variance" : "")\">\(e(change))</td>"
                    + "<td class=\"n\">\(e(prior?[unexplained] ?? ""))</td><td class=\"n\">\(e(now[unexplained]))</td></tr>"
            }
            html += "</table>"
        }
        return html + "<p class=\"muted\">Captures in their business month, settlement lines in the month of their "
            + "settlement day, payouts in the month paid. Unexplained: settled gross less what the month's captures, the earlier "
            + "captures settled in it and its refunds account for (amount mismatches, orphan lines, other currencies).</p></section>"
    }

    static func gatewaySummary(_ data: ReportData) -> String {
        let unmatched = Set(["missing_settlement", "orphan_settlement", "settlement_amount_mismatch", "late_settlement", "currency_mismatch"])
        let open = data.breakTypes.filter { unmatched.contains($0.breakType) }.reduce(0) { $0 + $1.count }
        var html = "<section><h2>Gateway settlement summary</h2><table class=\"wide\"><tr><th>Gateway</th><th>Currency</th><th>Captured</th>"
            + "<th>Settled gross</th><th>Fees</th><th>Payouts</th></tr>"
        // Captured, settled gross, fees and payouts of the month's totals.
        for total in data.gatewayTotals.sorted(by: { ($0.gateway, $0.currency) < ($1.gateway, $1.currency) }) {
            html += "<tr><td>\(e(total.gateway))</td><td>\(e(total.currency))</td>"
                + [0, 2, 3, 5].map { "<td class=\"n\">\(money(total.sums[$0].description))</td>" }.joined() + "</tr>"
        }
        return html + "</table><p>Unmatched items (settlement breaks): \(open)</p></section>"
    }

    /// The month's sign-offs as recorded (`recon close`), with their fingerprints; blank lines for
    /// a role not signed yet; withdrawn ones listed with their reason.
    static func signOff(_ records: [SignOffs.Record]) -> String {
        var html = "<section class=\"signoff\"><h2>Sign-off</h2><table><tr><th>Role</th><th>By</th><th>Signed</th><th>Fingerprint</th></tr>"
        for role in SignOffs.Role.allCases {
            if let record = records.first(where: { $0.role == role && $0.status == "active" }) {
                html += "<tr><th>\(role == .preparer ? "Prepared by" : "Reviewed by")</th><td>\(e(record.by))</td><td>\(e(record.signedAt))</td>"
                    + "<td><code>\(e(String(record.fingerprint.prefix(16))))</code></td></tr>"
            } else {
                html += "<tr><th>\(role == .preparer ? "Prepared by" : "Reviewed by")</th><td style=\"width:300px\"></td>"
                    + "<td style=\"width:160px\"></td><td></td></tr>"
            }
        }
        html += "</table>"
        for record in records where record.status != "active" {
            html += "<p class=\"muted\">Withdrawn: \(e(record.role.rawValue)) \(e(record.by)) of \(e(record.signedAt)): "
                + "\(e(record.withdrawnReason ?? ""))</p>"
        }
        return html + "</section>"
    }

    /// The break register at the month's end: open breaks whatever month they arose in, aged at
    /// the month's last day, per currency and aging bucket; then the breaks resolved in the month.
    static func breakRegister(_ register: (open: [BreakRegister.Entry], resolved: [BreakRegister.Entry]), month: String,
                              materiality: Materiality? = nil) -> String {
        var html = "<section><h2>Break register at the end of \(e(month))</h2>"
        if register.open.isEmpty && register.resolved.isEmpty { return html + "<p class=\"pass\">No break open at the month's end.</p></section>" }
        let buckets = [("0-1 days", 0...1), ("2-7 days", 2...7), ("8-30 days", 8...30), ("&gt;30 days", 31...Int.max)]
        var counts: [String: [Int]] = [:]
        for entry in register.open {
            let currency = entry.currency ?? "(none)"
            var row = counts[currency] ?? Array(repeating: 0, count: buckets.count)
            if let age = entry.ageDays, let index = buckets.firstIndex(where: { $0.1.contains(max(0, age)) }) { row[index] += 1 }
            counts[currency] = row
        }
        html += "<table><tr><th>Currency</th>" + buckets.map { "<th>\($0.0)</th>" }.joined() + "</tr>"
        for (currency, row) in counts.sorted(by: { $0.key < $1.key }) {
            html += "<tr><td>\(e(currency))</td>" + row.map { "<td class=\"n\">\($0)</td>" }.joined() + "</tr>"
        }
        html += "</table>"
        func table(_ entries: [BreakRegister.Entry], resolved: Bool) -> String {
            var text = "<table class=\"sample\"><tr><th>Break type</th><th>Entity</th><th>Business day</th><th>Currency</th><th>Amount</th>"
                + "<th>\(resolved ? "Resolved on" : "Age (days)")</th>\(materiality == nil ? "" : "<th>Material</th>")"
                + "<th>Status</th><th>Owner</th><th>Comment</th></tr>"
            for entry in entries.prefix(500) {
                text += "<tr><td>\(e(entry.breakType))</td><td>\(e(entry.entityType)) \(e(entry.entityKey))</td><td class=\"d\">\(e(entry.bizDate ?? ""))</td>"
                    + "<td>\(e(entry.currency ?? ""))</td><td class=\"n\">\(e(entry.amount ?? ""))</td>"
                    + "<td class=\"n\">\(e(resolved ? entry.resolvedOn ?? "" : entry.ageDays.map(String.init) ?? ""))</td>"
                    + (materiality.map { entry.isMaterial(by: $0) ? "<td class=\"fail\">material</td>" : "<td class=\"pass\">within</td>" } ?? "")
                    + "<td>\(e(entry.status.rawValue))</td><td>\(e(entry.owner ?? ""))</td><td>\(e(entry.comment ?? ""))</td></tr>"
            }
            return text + "</table>" + (entries.count > 500 ? "<p class=\"muted\">\(entries.count - 500) more in recon_meta.break_register</p>" : "")
        }
        html += "<details open><summary>Open at the month's end (\(register.open.count))</summary>" + table(register.open, resolved: false) + "</details>"
        if !register.resolved.isEmpty {
            html += "<details><summary>Resolved in the month (\(register.resolved.count))</summary>" + table(register.resolved, resolved: true) + "</details>"
        }
        return html + "</section>"
    }

    static func summary(_ result: AuditResult) -> String {
        var html = "<section><h2>Summary per layer</h2><table><tr><th>Layer</th><th>Checks</th><th>Pass</th><th>Warn</th><th>Fail</th><th>Error</th></tr>"
        for (layer, checks) in Dictionary(grouping: result.checks, by: \.layer).sorted(by: { $0.key < $1.key }) {
            let s = CheckSummary(checks)
            html += "<tr><td>\(e(layer.name))</td><td class=\"n\">\(s.checks)</td><td class=\"n\">\(s.pass)</td><td class=\"n\">\(s.warn)</td>"
                + "<td class=\"n \(s.fail > 0 ? "fail" : "")\">\(s.fail)</td><td class=\"n \(s.error > 0 ? "error" : "")\">\(s.error)</td></tr>"
        }
        return html + "</table></section>"
    }

    static func breaks(_ data: ReportData) -> String {
        var html = "<section><h2>Reconciliation breaks</h2>"
        if data.breakTypes.isEmpty { return html + "<p class=\"pass\">No breaks.</p></section>" }
        let weighed = data.breakMateriality
        if let weighed {
            html += "<p>A break is material above \(e(weighed.text)) (its difference, or its whole amount when it is late, unsettled or "
                + "misfiled); one without money to weigh counts as material.</p>"
        }
        // Per currency, with a subtotal each: amounts of two currencies are never added.
        html += "<table><tr><th>Currency</th><th>Break type</th><th>Count</th>\(weighed == nil ? "" : "<th>Material</th>")<th>Amount</th>"
            + "<th>0-1 days</th><th>2-7 days</th><th>8-30 days</th><th>&gt;30 days</th><th>No date</th></tr>"
        for (currency, types) in Dictionary(grouping: data.breakTypes, by: \.currency).sorted(by: { $0.key < $1.key }) {
            for type in types {
                html += "<tr><td>\(e(currency.isEmpty ? "(none)" : currency))</td><td>\(e(type.breakType))</td><td class=\"n\">\(type.count)</td>"
                    + (weighed == nil ? "" : "<td class=\"n \((type.material ?? 0) > 0 ? "fail" : "")\">\(type.material ?? 0)</td>")
                    + "<td class=\"n\">\(money(type.amount))</td>" + type.aging.map { "<td class=\"n\">\($0)</td>" }.joined() + "</tr>"
            }
            let total = types.reduce(Cents(0)) { $0 + (Cents($1.amount) ?? Cents(0)) }
            let aging = (0..<5).map { index in types.reduce(0) { $0 + ($1.aging.count > index ? $1.aging[index] : 0) } }
            let prior = data.priorBreakCounts[currency].map { " (prior month \($0))" } ?? ""
            html += "<tr class=\"subtotal\"><th>\(e(currency.isEmpty ? "(none)" : currency))</th><th>Total\(prior)</th>"
                + "<th class=\"n\">\(types.reduce(0) { $0 + $1.count })</th>"
                + (weighed == nil ? "" : "<th class=\"n\">\(types.reduce(0) { $0 + ($1.material ?? 0) })</th>")
                + "<th class=\"n\">\(money(total.description))</th>"
                + aging.map { "<th class=\"n\">\($0)</th>" }.joined() + "</tr>"
        }
        html += "</table><details open><summary>The first \(min(200, data.breaks.count)) of \(data.breakCount) breaks</summary><table class=\"sample\">"
        html += "<tr><th>Type</th><th>Entity</th><th>Key</th><th>Merchant</th><th>Gateway</th><th>Currency</th><th>Date</th><th>Expected</th>"
            + "<th>Actual</th><th>Difference</th><th>Age</th>\(weighed == nil ? "" : "<th>Material</th>")<th>Detail</th></tr>"
        for row in data.breaks.prefix(200) {
            let cells = [row.breakType, row.entityType, row.entityKey, row.merchantID ?? "", row.gateway ?? "", row.currency ?? "",
                         row.bizDate ?? "", row.expected ?? "", row.actual ?? "", row.difference ?? "", row.ageDays.map(String.init) ?? ""]
            // Dates and amounts never wrap; keys and details may.
            html += "<tr>" + cells.enumerated().map { "<td\($0.offset >= 6 ? " class=\"d\"" : "")>\(e($0.element))</td>" }.joined()
                + (row.material.map { "<td class=\"\($0 ? "fail" : "pass")\">\($0 ? "material" : "within")</td>" } ?? "")
                + "<td>\(e(row.detail))</td></tr>"
        }
        return html + "</table></details></section>"
    }

    /// Partitions of closed periods this run changed: what finance may already have seen.
    static func restatements(_ changes: [PartitionChange]) -> String {
        var html = "<section><h2>Restatements</h2><p>Partitions of closed periods whose rows changed in this run "
            + "(late or corrected source data).</p><table><tr><th>Table</th><th>Partition</th><th>Rows before</th><th>Rows after</th>"
            + "<th>Amounts before -&gt; after</th></tr>"
        for change in changes {
            html += "<tr><td>\(e(change.table))</td><td>\(e(change.partition))</td><td class=\"n\">\(change.rowsBefore)</td>"
                + "<td class=\"n\">\(change.rowsAfter)</td><td>\((change.amounts ?? []).map { e($0.text) }.joined(separator: "<br>"))</td></tr>"
        }
        return html + "</table></section>"
    }

    /// A check's last outcomes as a strip of marks, oldest first.
    static func trendStrip(_ points: [TrendPoint]) -> String {
        guard !points.isEmpty else { return "" }
        return " <span class=\"trend\" title=\"last \(points.count) runs, oldest first\">" + points.map { point in
            "<i class=\"\(e(point.status))\" title=\"\(e(point.period)) \(e(point.runID)): \(e(point.status)), \(point.failingRows) failing\"></i>"
        }.joined() + "</span>"
    }

    static func checks(_ result: AuditResult, trend: [String: [TrendPoint]] = [:]) -> String {
        var html = "<section><h2>Checks</h2>"
        for (layer, checks) in Dictionary(grouping: result.checks, by: \.layer).sorted(by: { $0.key < $1.key }) {
            html += "<h3>\(e(layer.name.uppercased()))</h3>"
            for check in checks {
                let open = check.status == .pass ? "" : " open"
                html += "<details class=\"check \(check.status.rawValue)\"\(open)><summary><span class=\"badge \(check.status.rawValue)\">"
                    + "\(check.status.rawValue)</span> <b>\(e(check.id))</b> <span class=\"muted\">\(e(check.type)) on \(e(check.table))</span>"
                    + " <span class=\"n\">\(check.failingRows) failing</span>\(trendStrip(trend[check.id] ?? []))</summary>"
                if let description = check.description { html += "<p>\(e(description))</p>" }
                let observed = check.status == .error ? (check.message ?? "could not be evaluated") : check.outcome
                html += "<p class=\"observed\">Observed: \(e(observed)). Expected: no failing rows"
                    + "\(check.severity == .warn ? " (warning only)" : "").</p>"
                if let money = check.moneyAtStake, !money.isEmpty {
                    html += "<p>Money at stake: " + e(money.sorted { $0.key < $1.key }.map { "\($0.key.isEmpty ? "" : $0.key + " ")\($0.value)" }
                        .joined(separator: ", ")) + "</p>"
                }
                if let judgement = check.judgement { html += "<p class=\"observed\">\(e(judgement))</p>" }
                for outcome in check.waivers ?? [] {
                    let waiver = outcome.waiver
                    html += "<p class=\"muted\">Waiver (\(e(outcome.status.rawValue))): \(e(waiver.reason)), approved by \(e(waiver.approvedBy))"
                        + (waiver.ticket.map { ", ticket \(e($0))" } ?? "") + ", expires \(e(waiver.expires.description)); "
                        + "covers \(outcome.rows) row\(outcome.rows == 1 ? "" : "s")"
                        + e(outcome.amount.sorted { $0.key < $1.key }.map { " \($0.key) \($0.value)" }.joined()) + "</p>"
                }
                if let columns = check.sampleColumns, !check.sample.isEmpty {
                    // Column names as finance reads them: "expected amount", not expected_amount.
                    html += "<table class=\"sample\"><thead><tr>" + columns.map { "<th>\(e($0.replacingOccurrences(of: "_", with: " ")))</th>" }
                        .joined() + "</tr></thead>"
                    for row in check.sample {
                        html += "<tr>" + columns.map { "<td>\(e(row[$0]?.text ?? ""))</td>" }.joined() + "</tr>"
                    }
                    html += "</table>"
                }
                html += "<details class=\"sql\"><summary>SQL</summary><pre>\(e(check.sql))</pre></details></details>"
            }
        }
        return html + "</section>"
    }

    // MARK: - Charts

    static func charts(_ data: ReportData) -> String {
        var html = "<section><h2>Charts</h2><div class=\"charts\">"
        let pairs = Set(data.gatewayDays.map { "\($0.gateway) \($0.currency)" }).sorted()
        for pair in pairs.prefix(4) {
            let days = data.gatewayDays.filter { "\($0.gateway) \($0.currency)" == pair }
            html += lineChart(title: "Daily captured vs settled: \(pair)", labels: days.map(\.bizDate),
                              series: [("captured", days.map { number($0.captured) }, "#2563eb"),
                                       ("settled gross", days.map { number($0.settledGross) }, "#16a34a")])
        }
        html += breakBars(data)
        for currency in data.heatMaps.keys.sorted() { html += heatMap(data.heatMaps[currency] ?? [:], currency: currency) }
        // One chart per currency: balances of two currencies never share an axis.
        let byCurrency = Dictionary(grouping: data.balances.keys, by: { String($0.split(separator: " ").last ?? "") })
        for (currency, names) in byCurrency.sorted(by: { $0.key < $1.key }) {
            let merchants = names.sorted()
            guard let first = data.balances[merchants[0]] else { continue }
            let colors = ["#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2"]
            html += lineChart(title: "Closing balance of the largest merchants, \(currency)", labels: first.map { $0[0] },
                              series: merchants.enumerated().map { index, name in
                                  (name, (data.balances[name] ?? []).map { number($0[1]) }, colors[index % colors.count])
                              })
        }
        return html + "</div></section>"
    }

    static func lineChart(title: String, labels: [String], series: [(String, [Double], String)]) -> String {
        let width = 560.0, height = 220.0, left = 60.0, bottom = 30.0, top = 24.0
        let values = series.flatMap(\.1)
        let maximum = max(values.max() ?? 1, 1), minimum = min(values.min() ?? 0, 0)
        let span = maximum - minimum
        func x(_ index: Int) -> Double { left + (width - left - 10) * Double(index) / Double(max(labels.count - 1, 1)) }
        func y(_ value: Double) -> Double { top + (height - top - bottom) * (1 - (value - minimum) / span) }
        var svg = "<figure><svg viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(e(title))\">"
        svg += "<text x=\"4\" y=\"14\" class=\"t\">\(e(title))</text>"
        svg += "<line x1=\"\(left)\" y1=\"\(y(minimum))\" x2=\"\(width - 10)\" y2=\"\(y(minimum))\" class=\"axis\"/>"
        svg += "<text x=\"\(left - 4)\" y=\"\(y(maximum) + 4)\" class=\"l\" text-anchor=\"end\">\(Int(maximum))</text>"
        svg += "<text x=\"\(left - 4)\" y=\"\(y(minimum))\" class=\"l\" text-anchor=\"end\">\(Int(minimum))</text>"
        if let firstLabel = labels.first, let lastLabel = labels.last {
            svg += "<text x=\"\(left)\" y=\"\(height - 8)\" class=\"l\">\(e(firstLabel))</text>"
            svg += "<text x=\"\(width - 10)\" y=\"\(height - 8)\" class=\"l\" text-anchor=\"end\">\(e(lastLabel))</text>"
        }
        for (_, points, color) in series {
            let path = points.enumerated().map { "\($0.offset == 0 ? "M" : "L")\(String(format: "%.1f", x($0.offset))),\(String(format: "%.1f", y($0.element)))" }.joined()
            svg += "<path d=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.6\"/>"
        }
        return svg + "</svg><figcaption>" + series.map { "<span style=\"color:\($0.2)\">&#9632;</span> \(e($0.0))" }
            .joined(separator: " ") + "</figcaption></figure>"
    }

    static func breakBars(_ data: ReportData) -> String {
        let days = data.breaksPerDay.keys.sorted()
        guard let firstDay = days.first, let lastDay = days.last else { return "" }
        let types = Set(data.breaksPerDay.values.flatMap(\.keys)).sorted()
        let colors = ["#dc2626", "#ea580c", "#ca8a04", "#16a34a", "#0891b2", "#2563eb", "#7c3aed", "#db2777", "#475569"]
        let width = 560.0, height = 220.0, left = 40.0, bottom = 30.0, top = 24.0
        let maximum = Double(data.breaksPerDay.values.map { $0.values.reduce(0, +) }.max() ?? 1)
        let barWidth = (width - left - 10) / Double(days.count)
        var svg = "<figure><svg viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"Breaks by type per day\">"
        svg += "<text x=\"4\" y=\"14\" class=\"t\">Breaks by type per day</text>"
        for (index, day) in days.enumerated() {
            var base = height - bottom
            for (typeIndex, type) in types.enumerated() {
                let count = Double(data.breaksPerDay[day]?[type] ?? 0)
                guard count > 0 else { continue }
                let barHeight = (height - top - bottom) * count / maximum
                base -= barHeight
                svg += "<rect x=\"\(String(format: "%.1f", left + Double(index) * barWidth))\" y=\"\(String(format: "%.1f", base))\" "
                    + "width=\"\(String(format: "%.1f", max(barWidth - 1, 1)))\" height=\"\(String(format: "%.1f", barHeight))\" "
                    + "fill=\"\(colors[typeIndex % colors.count])\"><title>\(e(day)) \(e(type)): \(Int(count))</title></rect>"
            }
        }
        svg += "<text x=\"\(left)\" y=\"\(height - 8)\" class=\"l\">\(e(firstDay))</text>"
        svg += "<text x=\"\(width - 10)\" y=\"\(height - 8)\" class=\"l\" text-anchor=\"end\">\(e(lastDay))</text>"
        svg += "<text x=\"\(left - 4)\" y=\"\(top + 8)\" class=\"l\" text-anchor=\"end\">\(Int(maximum))</text></svg>"
        svg += "<figcaption>" + types.enumerated().map {
            "<span style=\"color:\(colors[$0.offset % colors.count])\">&#9632;</span> \(e($0.element))"
        }.joined(separator: " ") + "</figcaption></figure>"
        return svg
    }

    static func heatMap(_ heatMap: [String: [String]], currency: String) -> String {
        let days = heatMap.keys.sorted()
        guard !days.isEmpty else { return "" }
        let cell = 20.0, left = 80.0, top = 30.0
        let width = left + cell * 24 + 10, height = top + cell * Double(days.count) + 10
        let maximum = max(heatMap.values.flatMap { $0.map(number) }.max() ?? 1, 1)
        var svg = "<figure class=\"wide\"><svg viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"Gross sales by hour and day\">"
        svg += "<text x=\"4\" y=\"14\" class=\"t\">Gross sales by business hour and day, \(e(currency))</text>"
        for hour in stride(from: 0, to: 24, by: 3) {
            svg += "<text x=\"\(left + cell * Double(hour) + 2)\" y=\"\(top - 4)\" class=\"l\">\(hour)h</text>"
        }
        for (row, day) in days.enumerated() {
            let y = top + cell * Double(row)
            svg += "<text x=\"\(left - 4)\" y=\"\(y + 14)\" class=\"l\" text-anchor=\"end\">\(e(day))</text>"
            for (hour, value) in (heatMap[day] ?? []).enumerated() {
                let share = number(value) / maximum
                svg += "<rect x=\"\(left + cell * Double(hour))\" y=\"\(y)\" width=\"\(cell - 1)\" height=\"\(cell - 1)\" "
                    + "fill=\"rgb(\(Int(255 - 218 * share)),\(Int(255 - 156 * share)),\(Int(255 - 20 * share)))\">"
                    + "<title>\(e(day)) \(hour)h: \(e(value))</title></rect>"
            }
        }
        return svg + "</svg></figure>"
    }

    /// What the run was made of: the tool, who and where, as_of, digests, waivers in force, every
    /// input file with its SHA-256 and counts, and the files that matched no contract name.
    static func evidence(_ evidence: Evidence, waivers: [WaiverOutcome]) -> String {
        var html = "<section class=\"evidence\"><h2>Evidence</h2><table class=\"facts\">"
        let facts: [(String, String?)] = [
            ("Tool", "FundRecon \(evidence.toolVersion)"), ("Run by", "\(evidence.user) on \(evidence.host)"), ("As of", evidence.asOf),
            ("Expectations SHA-256", evidence.expectationsSHA256), ("Pipeline commit", evidence.pipelineCommit),
            ("Tolerances", evidence.tolerances.isEmpty ? nil : evidence.tolerances.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                .joined(separator: ", ")),
        ]
        for (name, value) in facts { if let value, !value.isEmpty { html += "<tr><th>\(e(name))</th><td>\(e(value))</td></tr>" } }
        html += "</table>"
        if !waivers.isEmpty {
            html += "<h3>Waivers in force</h3><table><tr><th>Check</th><th>Keys</th><th>Reason</th><th>Approved by</th><th>Ticket</th>"
                + "<th>Expires</th><th>Status</th><th class=\"n\">Rows</th><th>Amount</th></tr>"
            for outcome in waivers {
                let waiver = outcome.waiver
                html += "<tr><td>\(e(waiver.check))</td><td>\(e(waiver.keys.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")))</td>"
                    + "<td>\(e(waiver.reason))</td><td>\(e(waiver.approvedBy))</td><td>\(e(waiver.ticket ?? ""))</td>"
                    + "<td>\(e(waiver.expires.description))</td><td>\(e(outcome.status.rawValue))</td><td class=\"n\">\(outcome.rows)</td>"
                    + "<td>\(e(outcome.amount.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))</td></tr>"
            }
            html += "</table>"
        }
        if !evidence.ignored.isEmpty {
            html += "<p class=\"fail\">Not loaded: their names match no file of the data contract: "
                + e(evidence.ignored.joined(separator: ", ")) + "</p>"
        }
        if !evidence.inputs.isEmpty {
            html += "<details><summary>Input files (\(evidence.inputs.count))</summary><table class=\"sample\"><tr><th>File</th><th>SHA-256</th>"
                + "<th class=\"n\">Read</th><th class=\"n\">Loaded</th><th class=\"n\">Rejected</th><th>Status</th></tr>"
            for file in evidence.inputs {
                html += "<tr><td>\(e(file.file))</td><td><code>\(e(file.sha256))</code></td><td class=\"n\">\(file.rowsRead)</td>"
                    + "<td class=\"n\">\(file.rowsLoaded)</td><td class=\"n\">\(file.rowsRejected)</td><td>\(e(file.status.rawValue))</td></tr>"
            }
            html += "</table></details>"
        }
        return html + "</section>"
    }

    static let css = """
        body{font:14px/1.45 -apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1f2937;margin:0 auto;max-width:1200px;padding:16px}
        h1{font-size:22px;margin:0 0 6px}h2{font-size:18px;border-bottom:2px solid #e5e7eb;padding-bottom:4px;margin-top:28px}
        h3{font-size:15px;margin:18px 0 6px;color:#374151}
        table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #e5e7eb;padding:3px 8px;text-align:left;vertical-align:top}
        th{background:#f3f4f6}td.n,th.n,.n{text-align:right;font-variant-numeric:tabular-nums}
        table.facts th{width:140px}table.sample{font-size:12px;display:block;overflow-x:auto;max-width:100%}
        table.wide{display:block;overflow-x:auto;max-width:100%}
        .verdict{font-size:16px;font-weight:600;padding:6px 10px;border-radius:4px;display:inline-block}
        .trend{margin-left:10px}.trend i{display:inline-block;width:7px;height:12px;margin-right:1px;background:#d1d5db}
        .trend i.succeeded,.trend i.pass{background:#16a34a}.trend i.fail{background:#dc2626}.trend i.warn{background:#d97706}.trend i.error{background:#6b7280}
        .verdict.pass,.badge.pass{background:#dcfce7;color:#166534}.verdict.fail,.badge.fail{background:#fee2e2;color:#991b1b}
        .verdict.error,.badge.error{background:#fef3c7;color:#92400e}.badge.warn{background:#fef9c3;color:#854d0e}.badge.waived{background:#e0e7ff;color:#3730a3}
        .badge{font-size:11px;text-transform:uppercase;padding:1px 6px;border-radius:3px;font-weight:700}
        td.fail{color:#991b1b;font-weight:700}td.error{color:#92400e;font-weight:700}
        details.check{border:1px solid #e5e7eb;border-radius:4px;margin:4px 0;padding:4px 8px}
        details.check.fail{border-left:4px solid #dc2626}details.check.error{border-left:4px solid #d97706}
        details.check.warn{border-left:4px solid #ca8a04}summary{cursor:pointer}.muted{color:#6b7280}
        pre{background:#f9fafb;padding:8px;overflow-x:auto;font-size:12px}.observed{font-weight:600}
        .charts{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0;border:1px solid #e5e7eb;padding:6px;width:560px}
        figure.wide{width:100%;max-width:760px}svg{width:100%;height:auto}.t{font-size:13px;font-weight:600}.l{font-size:10px;fill:#4b5563}
        td.d{white-space:nowrap}tr.subtotal th{background:#eef2ff}td.variance{background:#ffedd5;font-weight:600}.axis{stroke:#9ca3af}figcaption{font-size:11px}footer{margin-top:32px;color:#6b7280;font-size:12px}
        @page{size:A4 landscape;margin:10mm}
        @media print{body{max-width:none;font-size:10px;padding:0}details::details-content{content-visibility:visible;display:block}details{display:block}details>summary{list-style:none}
          details:not([open])>*:not(summary){display:block}.charts{display:block}figure{page-break-inside:avoid}
          table{width:100%;page-break-inside:auto}table.sample{display:table;overflow:visible;font-size:8px}table.wide{display:table;overflow:visible}
          thead{display:table-header-group}tr{page-break-inside:avoid}td,th{white-space:normal;overflow-wrap:anywhere}
          td.n,th.n,td.d{white-space:nowrap}h2{page-break-after:avoid}}
        """
}
