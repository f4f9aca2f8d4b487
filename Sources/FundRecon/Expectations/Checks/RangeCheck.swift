import Foundation
import Postgres

/// `range`: a value outside [min, max] fails (either bound may be left out).
struct RangeCheck: CheckType {
    static let name = "range"
    static let keys: Set<String> = ["column", "min", "max"]
    let column: String
    let minimum: Decimal?
    let maximum: Decimal?

    init(_ fields: FieldReader) throws {
        minimum = try fields.optionalDecimal("min")
        maximum = try fields.optionalDecimal("max")
        guard minimum != nil || maximum != nil else { throw fields.failure("range needs min, max or both") }
        column = try fields.string("column")
    }

    func columns(table: String) -> [(table: String, columns: [String])] { [(table, [column])] }

    func plan(_ context: PlanContext) throws -> CheckPlan {
        let name = PlanContext.column(column)
        let bounds: [SQL] = [minimum.map { "\(name) < \(decimal: $0)" }, maximum.map { "\(name) > \(decimal: $0)" }].compactMap { $0 }
        return context.rows(failingWhen: bounds.joined(separator: " OR "))
    }
}
