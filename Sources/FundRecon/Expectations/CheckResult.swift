import Foundation

/// pass, warn (a failed warn check), fail (a failed error check), error (could not be evaluated).
public enum CheckStatus: String, Sendable, Codable {
    case pass, warn, fail, error
}

/// One check's outcome, as results.json, JUnit and every report show it.
public struct CheckResult: Sendable, Codable {
    public var id: String
    public var type: String
    public var table: String
    public var layer: CheckLayer
    public var severity: Severity
    public var status: CheckStatus
    public var failingRows: Int
    public var observed: [String: JSONValue]
    public var sample: [[String: JSONValue]]
    public var sql: String
    public var durationMS: Int
    public var description: String?
    /// For `error`: what went wrong (PostgreSQL's message, a timeout).
    public var message: String?
    /// The columns of the sample, in order.
    public var sampleColumns: [String]?

    enum CodingKeys: String, CodingKey {
        case id, type, table, layer, severity, status, observed, sample, sql, description, message
        case failingRows = "failing_rows"
        case durationMS = "duration_ms"
        case sampleColumns = "sample_columns"
    }
}

extension CheckResult {
    /// Observed against expected, in one line.
    public var outcome: String {
        var text = "\(failingRows) failing row\(failingRows == 1 ? "" : "s"), expected 0"
        // Checks that classify their keys (reconcile) say how many of each class failed.
        if case .object(let classes)? = observed["classes"] {
            let parts = classes.sorted { $0.key < $1.key }.compactMap { name, value -> String? in
                guard case .object(let figures) = value, figures["count"] != .number(0) else { return nil }
                return "\(name) \(figures["count"]?.text ?? "0") (\(figures["amount"]?.text ?? "0"))"
            }
            text += "; " + parts.joined(separator: ", ")
        }
        return text
    }
}
