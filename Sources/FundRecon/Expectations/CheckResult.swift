import Foundation

/// pass, warn (a failed warn check, or one below its materiality), fail (a failed error check),
/// waived (every failing row covered by a valid waiver), error (could not be evaluated).
public enum CheckStatus: String, Sendable, Codable {
    case pass, warn, fail, waived, error
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
    /// Money checks that failed: the failing rows' money at stake per currency, exact, as text.
    public var moneyAtStake: [String: String]?
    /// Failing rows a valid waiver covers (counted in `failingRows` too).
    public var waivedRows: Int?
    /// The waivers naming the check and what each did.
    public var waivers: [WaiverOutcome]?
    /// Why a failing check is `warn` or `waived`: its materiality, its waivers.
    public var judgement: String?
    /// The line of the expectations file the check starts on.
    public var line: Int?

    enum CodingKeys: String, CodingKey {
        case id, type, table, layer, severity, status, observed, sample, sql, description, message, waivers, judgement, line
        case moneyAtStake = "money_at_stake"
        case waivedRows = "waived_rows"
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
                // Per currency when the check knows its currency: amounts of two currencies are never added.
                if case .object(let amounts)? = figures["amounts"], !amounts.isEmpty {
                    let money = amounts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.text)" }.joined(separator: ", ")
                    return "\(name) \(figures["count"]?.text ?? "0") (\(money))"
                }
                return "\(name) \(figures["count"]?.text ?? "0") (\(figures["amount"]?.text ?? "0"))"
            }
            text += "; " + parts.joined(separator: ", ")
        }
        return text
    }
}
