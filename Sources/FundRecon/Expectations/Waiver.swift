import Foundation
import Postgres
import Yams

/// How much money matters to a check (EXPECTATIONS.md "Materiality"): a failing check whose money
/// at stake is, in every currency, at most `amount` and at most `relative` times the checked total
/// is reported `warn`, not `fail`.
public struct Materiality: Sendable, Equatable, Codable {
    /// The amount per currency; the key `*` holds one amount for every currency.
    public var amounts: [String: Decimal] = [:]
    public var relative: Decimal?

    /// The amount that applies to `currency`, if any.
    func amount(for currency: String) -> Decimal? { amounts[currency] ?? amounts["*"] }

    /// Whether one break's money is material: above the amount of its currency. A break without
    /// money (a malformed record, a missing file) or in a currency without an amount cannot be
    /// weighed, and counts as material: someone must look at it.
    public func isMaterial(_ money: Decimal?, currency: String?) -> Bool {
        guard let money, let limit = amount(for: currency ?? "") else { return true }
        return money > limit
    }

    /// The amounts as finance reads them: `1.00`, or `EUR 5.00, USD 5.00`.
    public var text: String {
        amounts.sorted { $0.key < $1.key }.map { $0.key == "*" ? Self.money($0.value) : "\($0.key) \(Self.money($0.value))" }
            .joined(separator: ", ")
    }

    /// An amount with at least its cents: `1` -> `1.00`, `2.5` -> `2.50`.
    static func money(_ amount: Decimal) -> String {
        let text = "\(amount)"
        guard let dot = text.firstIndex(of: ".") else { return text + ".00" }
        let decimals = text.distance(from: dot, to: text.endIndex) - 1
        return decimals >= 2 ? text : text + String(repeating: "0", count: 2 - decimals)
    }
}

/// An acknowledged exception (EXPECTATIONS.md "Waivers"), from the expectations file's `waivers:`
/// or a `--waivers` file.
public struct Waiver: Sendable, Codable, Equatable {
    public var check: String
    /// Only failing rows with these values (compared as text); empty: every failing row.
    public var keys: [String: String] = [:]
    public var reason: String
    public var approvedBy: String
    public var ticket: String?
    /// The money at stake it may cover, per currency.
    public var maxAmount: Decimal?
    public var expires: CalendarDate
    /// Where it was written (`file:line`).
    public var source: String

    enum CodingKeys: String, CodingKey {
        case check, keys, reason, ticket, expires, source
        case approvedBy = "approved_by"
        case maxAmount = "max_amount"
    }
}

/// What a waiver did in a run (results.json `waivers`).
public struct WaiverOutcome: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable {
        /// Valid; it covered the failing rows counted here (possibly none).
        case applied
        /// Past its `expires` date (judged at the run's as_of): it waives nothing.
        case expired
        /// The rows it matched hold more money than its `max_amount`: it waives nothing.
        case exceeded
    }

    public var waiver: Waiver
    public var status: Status
    /// The failing rows it matched.
    public var rows: Int
    /// Their money at stake, per currency, exact.
    public var amount: [String: String]
}

extension ExpectationsParser {
    /// `materiality: {amount: 5.00 | {USD: 5.00, ...}, relative: 0.0001}`.
    static func materiality(_ node: Node, id: String?, fail: (Node?, String?, String) -> ExpectationsError) throws -> Materiality {
        guard let mapping = node.mapping else { throw fail(node, id, "materiality must be a mapping {amount: ..., relative: ...}") }
        var result = Materiality()
        for (key, value) in mapping {
            switch key.string ?? "" {
            case "amount":
                if let text = number(value), let amount = decimal(text), amount >= 0 {
                    result.amounts["*"] = amount
                } else if let perCurrency = value.mapping {
                    for (currency, amountNode) in perCurrency {
                        guard let code = currency.string, code.range(of: "^[A-Z]{3}$", options: .regularExpression) != nil else {
                            throw fail(currency, id, "materiality amounts are per currency code (USD: 5.00)")
                        }
                        guard let text = number(amountNode), let amount = decimal(text), amount >= 0 else {
                            throw fail(amountNode, id, "materiality amount for \(code) must be a number at least 0")
                        }
                        result.amounts[code] = amount
                    }
                } else {
                    throw fail(value, id, "materiality amount must be a number or a mapping of currency to number")
                }
            case "relative":
                guard let text = number(value), let relative = decimal(text), relative >= 0 else {
                    throw fail(value, id, "materiality relative must be a number at least 0 (a share: 0.0001)")
                }
                result.relative = relative
            default:
                throw fail(key, id, "unknown key '\(key.string ?? "?")' in materiality (amount, relative)")
            }
        }
        guard !result.amounts.isEmpty || result.relative != nil else { throw fail(node, id, "materiality needs amount or relative") }
        return result
    }

    /// A `waivers:` list; every waiver must name a check of `checks`.
    static func waivers(_ node: Node, file: String, checks: [CheckSpec], fail: (Node?, String?, String) -> ExpectationsError) throws -> [Waiver] {
        guard let list = node.sequence else { throw fail(node, nil, "waivers must be a list") }
        let ids = Set(checks.map(\.id))
        return try list.map { item in
            guard let mapping = item.mapping else { throw fail(item, nil, "each waiver is a mapping") }
            var fields: [String: Node] = [:]
            for (key, value) in mapping {
                guard let name = key.string, ["check", "keys", "reason", "approved_by", "ticket", "max_amount", "expires"].contains(name) else {
                    throw fail(key, nil, "unknown key '\(key.string ?? "?")' in a waiver (check, keys, reason, approved_by, ticket, max_amount, expires)")
                }
                fields[name] = value
            }
            func text(_ key: String, required: Bool = true) throws -> String? {
                guard let value = fields[key] else {
                    if required { throw fail(item, nil, "a waiver needs '\(key)'") }
                    return nil
                }
                guard let string = value.scalar?.string, !string.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw fail(value, nil, "waiver '\(key)' must be text")
                }
                return string
            }
            let check = try text("check")!
            guard ids.contains(check) else { throw fail(fields["check"], nil, "the waiver names no existing check: '\(check)'") }
            let expiresText = try text("expires")!
            guard let expires = CalendarDate(expiresText) else { throw fail(fields["expires"], check, "waiver expires must be a date (yyyy-mm-dd)") }
            var waiver = Waiver(check: check, reason: try text("reason")!, approvedBy: try text("approved_by")!, ticket: try text("ticket", required: false),
                                expires: expires, source: "\(file):\(item.mark.map { $0.line } ?? 0)")
            if let keys = fields["keys"] {
                guard let pairs = keys.mapping, !pairs.isEmpty else { throw fail(keys, check, "waiver keys must be a mapping {column: value}") }
                for (column, value) in pairs {
                    guard let name = column.string, let string = value.scalar?.string else {
                        throw fail(column, check, "waiver keys are column: value")
                    }
                    waiver.keys[name] = string
                }
            }
            if let amount = fields["max_amount"] {
                guard let text = number(amount), let value = decimal(text), value >= 0 else {
                    throw fail(amount, check, "waiver max_amount must be an amount at least 0")
                }
                waiver.maxAmount = value
            }
            return waiver
        }
    }

    /// A `--waivers FILE`: a YAML file with a top-level `waivers:` list, judged against `checks`.
    public static func waivers(file path: String, checks: [CheckSpec]) throws -> [Waiver] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ExpectationsError(file: path, line: nil, checkID: nil, message: "cannot read the waivers file")
        }
        func fail(_ node: Node?, _ id: String?, _ message: String) -> ExpectationsError {
            ExpectationsError(file: path, line: node?.mark.map { $0.line }, checkID: id, message: message)
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch { throw fail(nil, nil, "not valid YAML: \(error)") }
        guard let root, let list = root["waivers"] else { throw fail(root, nil, "expected a top-level 'waivers:' list") }
        if let mapping = root.mapping, let extra = mapping.keys.first(where: { $0.string != "waivers" }) {
            throw fail(extra, nil, "unknown top-level key '\(extra.string ?? "?")' (waivers)")
        }
        return try waivers(list, file: path, checks: checks, fail: fail)
    }
}
