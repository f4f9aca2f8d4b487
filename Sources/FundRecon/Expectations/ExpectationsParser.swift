import Foundation
import Yams

/// Reads an expectations file (EXPECTATIONS.md), keeping line numbers: anything it does not
/// define is an `ExpectationsError` naming the file, line and check.
public enum ExpectationsParser {
    static let commonKeys: Set<String> = ["id", "type", "table", "description", "severity", "where", "sample_size", "tags",
                                          "max_failing", "tolerance", "period"]
    static let typeKeys: [String: Set<String>] = [
        "not_null": ["columns"], "unique": ["columns"], "accepted_values": ["column", "values", "allow_null"],
        "range": ["column", "min", "max"], "expression": ["expression"], "relationships": ["columns", "to"],
        "row_count": ["min", "max", "equals"], "balance": ["lhs", "rhs", "grain"],
        "reconcile": ["left", "right", "date_window", "match_also"],
        "cross_period": ["fine", "coarse", "rollup", "keys", "measures"],
        "continuity": ["keys", "period", "step", "opening", "closing"],
        "freshness": ["column", "max_age"], "sql": ["query"],
    ]
    /// Types whose table is given by their sides, not by `table`.
    static let sidedTypes: Set<String> = ["reconcile", "cross_period"]

    /// Parses a file from disk.
    public static func parse(file path: String) throws -> ExpectationsFile {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ExpectationsError(file: path, line: nil, checkID: nil, message: "cannot read the file")
        }
        return try parse(text: text, file: path)
    }

    /// Parses text; `file` names it in errors.
    public static func parse(text: String, file: String) throws -> ExpectationsFile {
        func fail(_ node: Node?, _ id: String?, _ message: String) -> ExpectationsError {
            ExpectationsError(file: file, line: node?.mark.map { $0.line }, checkID: id, message: message)
        }
        let root: Node
        do {
            guard let parsed = try Yams.compose(yaml: text) else { throw fail(nil, nil, "the file is empty") }
            root = parsed
        } catch let error as ExpectationsError {
            throw error
        } catch {
            throw ExpectationsError(file: file, line: nil, checkID: nil, message: "not valid YAML: \(error)")
        }
        guard let top = root.mapping else { throw fail(root, nil, "expected a mapping with version, defaults and checks") }
        var defaultSeverity = Severity.error
        var defaultTolerance = "0"
        var defaultSample = 20
        var checksNode: Node?
        for (key, value) in top {
            switch key.string {
            case "version":
                guard value.int == 1 else { throw fail(value, nil, "version must be 1") }
            case "defaults":
                guard let defaults = value.mapping else { throw fail(value, nil, "defaults must be a mapping") }
                for (dkey, dvalue) in defaults {
                    switch dkey.string {
                    case "severity":
                        guard let severity = dvalue.string.flatMap(Severity.init(rawValue:)) else {
                            throw fail(dvalue, nil, "severity must be error or warn")
                        }
                        defaultSeverity = severity
                    case "tolerance":
                        guard let tolerance = number(dvalue) else { throw fail(dvalue, nil, "tolerance must be a number") }
                        defaultTolerance = tolerance
                    case "sample_size":
                        guard let size = dvalue.int, size >= 0 else { throw fail(dvalue, nil, "sample_size must be a whole number") }
                        defaultSample = size
                    default:
                        throw fail(dkey, nil, "unknown key '\(dkey.string ?? "?")' in defaults (severity, tolerance, sample_size)")
                    }
                }
            case "checks": checksNode = value
            default: throw fail(key, nil, "unknown top-level key '\(key.string ?? "?")' (version, defaults, checks)")
            }
        }
        guard let checksNode, let list = checksNode.sequence else { throw fail(root, nil, "checks must be a list") }
        var checks: [CheckSpec] = []
        var seen: [String: Int] = [:]
        for node in list {
            guard let mapping = node.mapping else { throw fail(node, nil, "each check is a mapping") }
            var fields: [String: Node] = [:]
            var keyNodes: [String: Node] = [:]
            for (key, value) in mapping {
                guard let name = key.string else { throw fail(key, nil, "keys are names") }
                fields[name] = value
                keyNodes[name] = key
            }
            guard let id = fields["id"]?.string else { throw fail(node, nil, "a check needs an id") }
            guard id.range(of: "^[a-z0-9_.-]+$", options: .regularExpression) != nil else {
                throw fail(fields["id"], id, "id must match [a-z0-9_.-]+")
            }
            if let first = seen[id] { throw fail(fields["id"], id, "duplicate id (first defined on line \(first))") }
            let line = node.mark.map { $0.line } ?? 0
            seen[id] = line
            guard let type = fields["type"]?.string else { throw fail(node, id, "missing key 'type'") }
            guard let allowed = typeKeys[type] else {
                throw fail(fields["type"], id, "unknown type '\(type)' (\(typeKeys.keys.sorted().joined(separator: ", ")))")
            }
            for (name, key) in keyNodes where !commonKeys.contains(name) && !allowed.contains(name) {
                throw fail(key, id, "unknown key '\(name)' for type \(type)")
            }
            var reader = FieldReader(fields: fields, id: id, check: node, fail: fail)
            let table: String
            if sidedTypes.contains(type) {
                guard fields["table"] == nil else { throw fail(keyNodes["table"], id, "\(type) takes its tables from its sides, not 'table'") }
                table = ""
            } else {
                table = try reader.string("table")
            }
            let kind = try kind(of: type, reader: &reader)
            var spec = CheckSpec(
                id: id, kind: kind, table: table, description: try reader.optionalString("description"),
                severity: defaultSeverity, where: try reader.optionalString("where"), sampleSize: defaultSample,
                tags: try reader.optionalStrings("tags") ?? [], tolerance: defaultTolerance, maxFailing: 0, line: line)
            if let node = fields["period"] {
                switch kind {
                case .continuity(_, let column, _, _, _):
                    spec.period = PeriodColumn(column: column, grain: nil)
                case .sql, .reconcile, .crossPeriod:
                    throw fail(node, id, type == "sql"
                        ? "a sql check cannot be scoped by period (its query is run as written)"
                        : "\(type) is scoped by the 'period' of its sides, not by a 'period' of its own")
                default:
                    if let column = node.scalar?.string {
                        spec.period = PeriodColumn(column: column, grain: nil)
                    } else if let mapping = node.mapping {
                        var period = PeriodColumn(column: "", grain: nil)
                        for (subkey, value) in mapping {
                            switch subkey.string ?? "" {
                            case "column": period.column = value.scalar?.string ?? ""
                            case "grain":
                                guard let grain = value.scalar?.string, ["hour", "day", "month"].contains(grain) else {
                                    throw fail(value, id, "period grain must be hour, day or month")
                                }
                                period.grain = grain
                            default: throw fail(subkey, id, "unknown key '\(subkey.string ?? "?")' in period (column, grain)")
                            }
                        }
                        guard !period.column.isEmpty else { throw fail(node, id, "period needs 'column'") }
                        spec.period = period
                    } else {
                        throw fail(node, id, "period must be a column name or {column: ..., grain: ...}")
                    }
                }
            }
            if let severity = try reader.optionalString("severity") {
                guard let parsed = Severity(rawValue: severity) else { throw fail(fields["severity"], id, "severity must be error or warn") }
                spec.severity = parsed
            }
            if let size = fields["sample_size"] {
                guard let value = size.int, value >= 0 else { throw fail(size, id, "sample_size must be a whole number") }
                spec.sampleSize = value
            }
            if let maximum = fields["max_failing"] {
                guard let value = maximum.int, value >= 0 else { throw fail(maximum, id, "max_failing must be a whole number") }
                spec.maxFailing = value
            }
            if let tolerance = fields["tolerance"] {
                guard let value = number(tolerance) else { throw fail(tolerance, id, "tolerance must be a number") }
                spec.tolerance = value
            }
            switch kind {
            case .reconcile(let left, _, _, _): spec.table = left.table
            case .crossPeriod(let fine, _, _, _, _): spec.table = fine.table
            default: break
            }
            checks.append(spec)
        }
        return ExpectationsFile(path: file, checks: checks)
    }

    static func kind(of type: String, reader: inout FieldReader) throws -> CheckKind {
        switch type {
        case "not_null": return .notNull(columns: try reader.strings("columns"))
        case "unique": return .unique(columns: try reader.strings("columns"))
        case "accepted_values":
            return .acceptedValues(column: try reader.string("column"), values: try reader.scalars("values"),
                                   allowNull: try reader.optionalBool("allow_null") ?? true)
        case "range":
            let minimum = try reader.optionalNumber("min")
            let maximum = try reader.optionalNumber("max")
            guard minimum != nil || maximum != nil else { throw reader.failure("range needs min, max or both") }
            return .range(column: try reader.string("column"), min: minimum, max: maximum)
        case "expression": return .expression(try reader.string("expression"))
        case "relationships":
            return .relationships(columns: try reader.strings("columns"), to: try reader.side("to", needs: ["table", "columns"]))
        case "row_count":
            let equals = try reader.optionalSide("equals", needs: ["table"])
            let minimum = try reader.optionalInt("min")
            let maximum = try reader.optionalInt("max")
            guard minimum != nil || maximum != nil || equals != nil else { throw reader.failure("row_count needs min, max or equals") }
            return .rowCount(min: minimum, max: maximum, equals: equals)
        case "balance":
            return .balance(lhs: try reader.string("lhs"), rhs: try reader.string("rhs"), grain: try reader.optionalStrings("grain") ?? [])
        case "reconcile":
            let window = try reader.optionalString("date_window").map { try reader.days($0, key: "date_window") }
            return .reconcile(left: try reader.side("left", needs: ["table", "keys", "amount"]),
                              right: try reader.side("right", needs: ["table", "keys", "amount"]),
                              dateWindowDays: window, matchAlso: try reader.optionalStrings("match_also") ?? [])
        case "cross_period":
            let rollup = try reader.string("rollup")
            guard rollup == "day" || rollup == "month" else { throw reader.failure("rollup must be day (hour -> day) or month (day -> month)") }
            return .crossPeriod(fine: try reader.side("fine", needs: ["table", "period"]), coarse: try reader.side("coarse", needs: ["table", "period"]),
                                rollup: rollup, keys: try reader.strings("keys"), measures: try reader.strings("measures"))
        case "continuity":
            let step = try reader.optionalString("step").map { try reader.days($0, key: "step") } ?? 1
            return .continuity(keys: try reader.strings("keys"), period: try reader.string("period"), stepDays: step,
                               opening: try reader.string("opening"), closing: try reader.string("closing"))
        case "freshness":
            return .freshness(column: try reader.string("column"), maxAgeSeconds: try reader.duration(try reader.string("max_age")))
        default:
            return .sql(try reader.string("query"))
        }
    }

    static func number(_ node: Node) -> String? {
        guard let text = node.scalar?.string, Decimal(string: text) != nil,
              text.range(of: "^-?[0-9]+(\\.[0-9]+)?$", options: .regularExpression) != nil else { return nil }
        return text
    }
}
