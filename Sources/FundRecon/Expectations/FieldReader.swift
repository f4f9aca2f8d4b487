import Foundation
import Yams

/// Typed access to one check's fields, with errors that name the line.
struct FieldReader {
    let fields: [String: Node]
    let id: String
    let check: Node
    let fail: (Node?, String?, String) -> ExpectationsError

    func failure(_ message: String) -> ExpectationsError { fail(check, id, message) }

    func string(_ key: String) throws -> String {
        guard let node = fields[key] else { throw fail(check, id, "missing key '\(key)'") }
        guard let value = node.scalar?.string, !value.isEmpty else { throw fail(node, id, "'\(key)' must be a non-empty text") }
        return value
    }

    func optionalString(_ key: String) throws -> String? {
        guard fields[key] != nil else { return nil }
        return try string(key)
    }

    func strings(_ key: String) throws -> [String] {
        guard let node = fields[key] else { throw fail(check, id, "missing key '\(key)'") }
        return try list(node, key)
    }

    func optionalStrings(_ key: String) throws -> [String]? {
        guard let node = fields[key] else { return nil }
        return try list(node, key)
    }

    func scalars(_ key: String) throws -> [String] { try strings(key) }

    func list(_ node: Node, _ key: String) throws -> [String] {
        guard let items = node.sequence, !items.isEmpty else { throw fail(node, id, "'\(key)' must be a non-empty list") }
        return try items.map { item in
            guard let value = item.scalar?.string else { throw fail(item, id, "'\(key)' holds names or values") }
            return value
        }
    }

    func optionalBool(_ key: String) throws -> Bool? {
        guard let node = fields[key] else { return nil }
        guard let value = node.bool else { throw fail(node, id, "'\(key)' must be true or false") }
        return value
    }

    func optionalInt(_ key: String) throws -> Int? {
        guard let node = fields[key] else { return nil }
        guard let value = node.int else { throw fail(node, id, "'\(key)' must be a whole number") }
        return value
    }

    func optionalNumber(_ key: String) throws -> String? {
        guard let node = fields[key] else { return nil }
        guard let value = ExpectationsParser.number(node) else { throw fail(node, id, "'\(key)' must be a number") }
        return value
    }

    /// An exact number.
    func decimal(_ key: String) throws -> Decimal {
        guard let node = fields[key] else { throw fail(check, id, "missing key '\(key)'") }
        guard let value = ExpectationsParser.number(node).flatMap(ExpectationsParser.decimal) else {
            throw fail(node, id, "'\(key)' must be a number")
        }
        return value
    }

    func optionalDecimal(_ key: String) throws -> Decimal? {
        fields[key] == nil ? nil : try decimal(key)
    }

    func side(_ key: String, needs: [String]) throws -> TableSide {
        guard let side = try optionalSide(key, needs: needs) else { throw fail(check, id, "missing key '\(key)'") }
        return side
    }

    func optionalSide(_ key: String, needs: [String]) throws -> TableSide? {
        guard let node = fields[key] else { return nil }
        guard let mapping = node.mapping else { throw fail(node, id, "'\(key)' must be a mapping") }
        var side = TableSide(table: "", line: node.mark.map { $0.line })
        var present: Set<String> = []
        for (subkey, value) in mapping {
            guard let name = subkey.string else { continue }
            present.insert(name)
            let text = value.scalar?.string
            switch name {
            case "table": side.table = text ?? ""
            case "keys", "columns":
                guard let items = value.sequence else { throw fail(value, id, "'\(key).\(name)' must be a list") }
                side.keys = items.compactMap { $0.scalar?.string }
            case "amount": side.amount = text
            case "date": side.date = text
            case "where": side.where = text
            case "period": side.period = text
            default: throw fail(subkey, id, "unknown key '\(name)' in \(key)")
            }
        }
        for required in needs where !present.contains(required) {
            throw fail(node, id, "'\(key)' needs '\(required)'")
        }
        return side
    }

    /// `3 days`, `1 day`, `3` -> 3.
    func days(_ text: String, key: String) throws -> Int {
        let parts = text.split(separator: " ")
        guard let value = parts.first.flatMap({ Int($0) }), value >= 0,
              parts.count == 1 || (parts.count == 2 && ["day", "days"].contains(parts[1])) else {
            throw fail(fields[key], id, "'\(key)' must be a number of days, such as '3 days'")
        }
        return value
    }

    /// `36 hours`, `2 days`, `90 minutes` -> seconds (at most 100 years).
    func duration(_ key: String) throws -> Int {
        let parts = try string(key).split(separator: " ")
        let units = ["second": 1, "seconds": 1, "minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400]
        guard parts.count == 2, let value = Int(parts[0]), value >= 0, let unit = units[String(parts[1])],
              case let (seconds, overflow) = value.multipliedReportingOverflow(by: unit), !overflow, seconds <= 100 * 366 * 86400 else {
            throw fail(fields[key], id, "\(key) must be a duration of at most 100 years, such as '36 hours' or '2 days'")
        }
        return seconds
    }
}
