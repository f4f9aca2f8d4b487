import Foundation
import Postgres

/// What makes `recon diff` exit 1 (`--fail-on`): any difference, money that moved beyond a
/// tolerance, a check that got worse, a change to a closed period; or nothing.
public struct DiffPolicy: Sendable, Equatable {
    public enum Rule: String, Sendable, CaseIterable {
        case any, money, checks, closed, none
    }

    public var rules: Set<Rule>
    /// The absolute change of a money total (per currency, per column) that still passes `money`.
    public var moneyTolerance: Cents

    public static let `default` = DiffPolicy(rules: [.closed, .checks], moneyTolerance: Cents(0))

    public init(rules: Set<Rule>, moneyTolerance: Cents) {
        self.rules = rules
        self.moneyTolerance = moneyTolerance
    }

    /// Parses `closed,checks`; `none` stands alone.
    public init(parsing text: String, moneyTolerance: Cents) throws {
        var rules: Set<Rule> = []
        for name in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let rule = Rule(rawValue: name) else {
                throw BadValue("--fail-on '\(name)': expected any, money, checks, closed or none (comma-separated)")
            }
            rules.insert(rule)
        }
        if rules.contains(.none) && rules.count > 1 { throw BadValue("--fail-on none cannot be combined with other rules") }
        guard !rules.isEmpty else { throw BadValue("--fail-on needs at least one of any, money, checks, closed, none") }
        self.init(rules: rules, moneyTolerance: moneyTolerance)
    }

    /// A model's money totals (per currency and column) that moved by more than the tolerance.
    public func moneyBeyondTolerance(_ model: ModelDiff) -> [MoneyChange] {
        model.money.filter { $0.dimension == "total" && (Cents($0.delta).map { abs($0.rawValue) } ?? .max) > moneyTolerance.rawValue }
    }

    /// Why the diff breaks the policy, one line per reason; empty when it does not.
    public func violations(of diff: DiffResult) -> [String] {
        var reasons: [String] = []
        if rules.contains(.any) {
            let changed = diff.changedModels.map(\.model)
            if !changed.isEmpty { reasons.append("models changed: " + changed.joined(separator: ", ")) }
            let moved = diff.checks.map(\.id)
            if !moved.isEmpty { reasons.append("check outcomes changed: " + moved.joined(separator: ", ")) }
        }
        if rules.contains(.money) {
            for model in diff.models {
                for change in moneyBeyondTolerance(model) {
                    reasons.append("\(model.model).\(change.column) \(change.currency) total moved \(signed(change.delta)) "
                        + "(tolerance \(moneyTolerance))")
                }
            }
        }
        if rules.contains(.checks) {
            for change in diff.checks where change.isWorse { reasons.append("check got worse: " + change.description) }
        }
        if rules.contains(.closed), let closed = diff.closedThrough {
            for model in diff.closedChanges {
                let periods = Set(model.closedMoney.filter { $0.dimension == "day" || $0.dimension == "month" }.map(\.value)).sorted()
                let money = model.closedMoney.filter { $0.dimension == "total" }
                    .map { "\($0.column) \($0.currency) \(signed($0.delta))" }.joined(separator: ", ")
                reasons.append("\(model.model) changes the closed period through \(closed): \(model.closedRows) row\(model.closedRows == 1 ? "" : "s")"
                    + (periods.isEmpty ? "" : " in " + periods.prefix(5).joined(separator: ", ") + (periods.count > 5 ? " ..." : ""))
                    + (money.isEmpty ? "" : "; " + money))
            }
        }
        return reasons
    }
}

/// A decimal with its sign always shown (`+12.30`, `-4.00`).
package func signed(_ text: String) -> String { text.hasPrefix("-") ? text : "+" + text }
