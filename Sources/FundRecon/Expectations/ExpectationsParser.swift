import Foundation
import Yams

/// Reads an expectations file (EXPECTATIONS.md), keeping line numbers: anything it does not
/// define is an `ExpectationsError` naming the file, line and check.
public enum ExpectationsParser {
    /// The keys every check may have; each type adds its own (`CheckType.keys`).
    static let commonKeys: Set<String> = ["id", "type", "table", "description", "severity", "where", "sample_size", "tags",
                                          "max_failing", "tolerance", "period", "materiality", "cadence"]

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
        var defaultTolerance = Decimal(0)
        var defaultSample = 20
        var checksNode: Node?
        var waiversNode: Node?
        var breakMateriality: Materiality?
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
                        guard let tolerance = number(dvalue).flatMap(decimal) else { throw fail(dvalue, nil, "tolerance must be a number") }
                        defaultTolerance = tolerance
                    case "sample_size":
                        guard let size = dvalue.int, size >= 0 else { throw fail(dvalue, nil, "sample_size must be a whole number") }
                        defaultSample = size
                    default:
                        throw fail(dkey, nil, "unknown key '\(dkey.string ?? "?")' in defaults (severity, tolerance, sample_size)")
                    }
                }
            case "checks": checksNode = value
            case "waivers": waiversNode = value
            case "break_materiality":
                let materiality = try materiality(value, id: nil, fail: fail)
                guard materiality.relative == nil, !materiality.amounts.isEmpty else {
                    throw fail(value, nil, "break_materiality takes an amount (one, or per currency); a break has no total for a relative share")
                }
                breakMateriality = materiality
            default:
                throw fail(key, nil, "unknown top-level key '\(key.string ?? "?")' (version, defaults, checks, waivers, break_materiality)")
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
            guard let typeName = fields["type"]?.string else { throw fail(node, id, "missing key 'type'") }
            guard let type = CheckTypes.named(typeName) else {
                throw fail(fields["type"], id, "unknown type '\(typeName)' (\(CheckTypes.all.map { $0.name }.sorted().joined(separator: ", ")))")
            }
            for (name, key) in keyNodes where !commonKeys.contains(name) && !type.keys.contains(name) {
                throw fail(key, id, "unknown key '\(name)' for type \(typeName)")
            }
            let reader = FieldReader(fields: fields, id: id, check: node, fail: fail)
            var table = ""
            switch type.table {
            case .required: table = try reader.string("table")
            case .optional: table = try reader.optionalString("table") ?? ""
            case .sides:
                guard fields["table"] == nil else { throw fail(keyNodes["table"], id, "\(typeName) takes its tables from its sides, not 'table'") }
            }
            let definition = try type.init(reader)
            if case .sides = type.table { table = definition.mainTable ?? "" }
            var spec = CheckSpec(
                id: id, definition: definition, table: table, description: try reader.optionalString("description"),
                severity: defaultSeverity, where: try reader.optionalString("where"), sampleSize: defaultSample,
                tags: try reader.optionalStrings("tags") ?? [], tolerance: defaultTolerance, maxFailing: 0, line: line)
            switch type.scoping {
            case .own:
                spec.period = definition.ownPeriod
            case .refused(let reason):
                if let node = fields["period"] { throw fail(node, id, reason) }
            case .byColumn:
                if let node = fields["period"] { spec.period = try periodColumn(node, id: id, fail: fail) }
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
            if fields["tolerance"] != nil { spec.tolerance = try reader.decimal("tolerance") }
            if let node = fields["cadence"] {
                guard let cadence = node.string.flatMap(Cadence.init(rawValue:)) else {
                    throw fail(node, id, "cadence must be run (judged in every run) or day (judged in the runs that close a day)")
                }
                spec.cadence = cadence
            }
            if let node = fields["materiality"] {
                let materiality = try materiality(node, id: id, fail: fail)
                guard definition.stake != nil else {
                    throw fail(keyNodes["materiality"], id, "materiality needs a check that measures money (reconcile, balance, cross_period, "
                        + "continuity, or sql with amount)")
                }
                if materiality.relative != nil && !definition.measuresTotal {
                    throw fail(keyNodes["materiality"], id, "relative materiality needs the checked total, which a sql check's query does not give: use amount")
                }
                spec.materiality = materiality
            }
            checks.append(spec)
        }
        let waivers = try waiversNode.map { try Self.waivers($0, file: file, checks: checks, fail: fail) } ?? []
        var parsed = ExpectationsFile(path: file, checks: checks, text: text, waivers: waivers)
        parsed.breakMateriality = breakMateriality
        return parsed
    }

    /// `period: column` or `period: {column: ..., grain: hour|day|month}`.
    static func periodColumn(_ node: Node, id: String, fail: (Node?, String?, String) -> ExpectationsError) throws -> PeriodColumn {
        if let column = node.scalar?.string { return PeriodColumn(column: column, grain: nil) }
        guard let mapping = node.mapping else { throw fail(node, id, "period must be a column name or {column: ..., grain: ...}") }
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
        return period
    }

    /// The exact value of a number's text.
    static func decimal(_ text: String) -> Decimal? { Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) }

    static func number(_ node: Node) -> String? {
        guard let text = node.scalar?.string, Decimal(string: text) != nil,
              text.range(of: "^-?[0-9]+(\\.[0-9]+)?$", options: .regularExpression) != nil else { return nil }
        return text
    }
}
