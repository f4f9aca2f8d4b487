import Postgres

/// `expression`: a row fails when the author's boolean expression is false or NULL.
struct ExpressionCheck: CheckType {
    static let name = "expression"
    static let keys: Set<String> = ["expression"]
    let expression: String

    init(_ fields: FieldReader) throws {
        expression = try fields.string("expression")
    }

    func columns(table: String) -> [(table: String, columns: [String])] { [(table, [])] }

    func plan(_ context: PlanContext) throws -> CheckPlan {
        context.rows(failingWhen: "NOT coalesce(\(PlanContext.fragment(expression)), false)")
    }
}
