import Foundation
import Postgres

/// Materiality and waivers (EXPECTATIONS.md): what a failed check's failing rows are worth per
/// currency, which of them valid waivers cover, and whether what is left matters.
extension CheckEngine {
    /// `result` judged: `waived` when valid waivers cover every failing row, `warn` instead of
    /// `fail` when the uncovered money is within the materiality in every currency. A statement
    /// that cannot run leaves the result as it was, with the reason in its judgement.
    func judged(_ check: CompiledCheck, _ result: CheckResult, waivers: [Waiver], on worker: CheckWorker) -> CheckResult {
        let asOfDay = CalendarDate(utcDayOf: asOf)
        let failed = result.status == .fail || result.status == .warn
        guard failed, check.spec.materiality != nil || !waivers.isEmpty else {
            var result = result
            if !waivers.isEmpty {
                result.waivers = waivers.map { WaiverOutcome(waiver: $0, status: $0.expires < asOfDay ? .expired : .applied, rows: 0, amount: [:]) }
            }
            return result
        }
        do {
            return try judge(check, result, waivers: waivers, asOfDay: asOfDay, on: worker)
        } catch {
            var result = result
            result.judgement = "materiality and waivers could not be judged: \(error)"
            return result
        }
    }

    private func judge(_ check: CompiledCheck, _ original: CheckResult, waivers: [Waiver], asOfDay: CalendarDate,
                       on worker: CheckWorker) throws -> CheckResult {
        var result = original
        let stake = check.spec.definition.stake ?? "0"
        func matches(_ waiver: Waiver) -> SQL {
            waiver.keys.isEmpty ? "true"
                : waiver.keys.sorted { $0.key < $1.key }.map { "(f ->> \(literal: $0.key)) = \(literal: $0.value)" as SQL }.joined(separator: " AND ")
        }
        // Per currency: the failing rows and their money, and each waiver's share of them.
        func figures(_ conditions: [SQL]) throws -> [(currency: String, rows: Int, money: Decimal, matched: [(Int, Decimal)])] {
            let columns = conditions.map { condition -> SQL in
                "count(*) FILTER (WHERE \(condition)), coalesce(sum(\(stake)) FILTER (WHERE \(condition)), 0)::text"
            }
            let statement: SQL = """
                WITH failing AS MATERIALIZED (\(check.displaySQL))
                SELECT coalesce(f ->> 'currency', '') AS currency, count(*), coalesce(sum(\(stake)), 0)::text
                       \(columns.isEmpty ? "" : ", " + columns.joined(separator: ", "))
                FROM (SELECT to_jsonb(failing) AS f FROM failing) AS rows GROUP BY 1 ORDER BY 1
                """
            return try readOnly(worker) { try $0.query(statement) }.rows.map { row in
                (row.text(at: 0) ?? "", Int(row.text(at: 1) ?? "0") ?? 0, Decimal(string: row.text(at: 2) ?? "0") ?? 0,
                 conditions.indices.map { (Int(row.text(at: 3 + 2 * $0) ?? "0") ?? 0, Decimal(string: row.text(at: 4 + 2 * $0) ?? "0") ?? 0) })
            }
        }
        let perCurrency = try figures(waivers.map(matches))
        if check.spec.definition.stake != nil {
            result.moneyAtStake = Dictionary(uniqueKeysWithValues: perCurrency.map { ($0.currency, Self.amount($0.money)) })
        }
        var outcomes: [WaiverOutcome] = []
        for (index, waiver) in waivers.enumerated() {
            let rows = perCurrency.reduce(0) { $0 + $1.matched[index].0 }
            let amounts = perCurrency.filter { $0.matched[index].0 > 0 }.map { ($0.currency, $0.matched[index].1) }
            var status = WaiverOutcome.Status.applied
            if waiver.expires < asOfDay {
                status = .expired
            } else if let maximum = waiver.maxAmount, amounts.contains(where: { $0.1 > maximum }) {
                status = .exceeded
            }
            outcomes.append(WaiverOutcome(waiver: waiver, status: status, rows: rows,
                                          amount: Dictionary(uniqueKeysWithValues: amounts.map { ($0.0, Self.amount($0.1)) })))
        }
        result.waivers = outcomes.isEmpty ? nil : outcomes
        // The rows valid waivers cover, counted once however many cover them.
        let valid = waivers.indices.filter { outcomes[$0].status == .applied && outcomes[$0].rows > 0 }.map { matches(waivers[$0]) }
        var covered: [String: (rows: Int, money: Decimal)] = [:]
        if !valid.isEmpty {
            for line in try figures(["(" + valid.joined(separator: ") OR (") + ")"]) { covered[line.currency] = line.matched[0] }
        }
        let waivedRows = covered.values.reduce(0) { $0 + $1.rows }
        if waivedRows > 0 { result.waivedRows = waivedRows }
        var notes: [String] = []
        if waivedRows > 0 { notes.append("\(waivedRows) of \(result.failingRows) failing rows waived") }
        for outcome in outcomes where outcome.status != .applied {
            notes.append("waiver \(outcome.waiver.source) \(outcome.status.rawValue)")
        }
        if waivedRows >= result.failingRows {
            result.status = .waived
            result.judgement = notes.joined(separator: "; ")
            return result
        }
        // What is left, against the materiality, currency by currency.
        if let materiality = check.spec.materiality, result.status == .fail {
            var totals: [String: Decimal] = [:]
            if materiality.relative != nil, let query = check.checkedTotal {
                for row in try readOnly(worker, { try $0.query(query) }).rows {
                    totals[row.text(at: 0) ?? ""] = Decimal(string: row.text(at: 1) ?? "0") ?? 0
                }
            }
            var immaterial = true
            var reasons: [String] = []
            for line in perCurrency {
                let left = line.money - (covered[line.currency]?.money ?? 0)
                guard line.rows - (covered[line.currency]?.rows ?? 0) > 0 else { continue }
                let name = line.currency.isEmpty ? "money" : line.currency
                if materiality.amounts.isEmpty == false {
                    guard let limit = materiality.amount(for: line.currency), left <= limit else {
                        immaterial = false
                        reasons.append("\(name) \(Self.amount(left)) above \(materiality.amount(for: line.currency).map(Self.amount) ?? "no amount for this currency")")
                        continue
                    }
                }
                if let relative = materiality.relative {
                    let limit = relative * (totals[line.currency] ?? 0)
                    guard left <= limit else {
                        immaterial = false
                        reasons.append("\(name) \(Self.amount(left)) above \(relative) of \(Self.amount(totals[line.currency] ?? 0))")
                        continue
                    }
                }
                reasons.append("\(name) \(Self.amount(left)) within the materiality")
            }
            if immaterial {
                result.status = .warn
                notes.append("below materiality: " + reasons.joined(separator: ", "))
            } else {
                notes.append("material: " + reasons.joined(separator: ", "))
            }
        }
        result.judgement = notes.isEmpty ? nil : notes.joined(separator: "; ")
        return result
    }

    /// An exact amount as text with at least two decimals (`5` -> `5.00`).
    static func amount(_ value: Decimal) -> String {
        var text = "\(value)"
        if let dot = text.firstIndex(of: ".") {
            let decimals = text.distance(from: dot, to: text.endIndex) - 1
            if decimals < 2 { text += String(repeating: "0", count: 2 - decimals) }
        } else {
            text += ".00"
        }
        return text
    }
}
