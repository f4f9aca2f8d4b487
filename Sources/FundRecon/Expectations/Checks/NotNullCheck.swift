import Postgres

/// `not_null`: a row fails when any listed column is NULL.
struct NotNullCheck: CheckType {
    static let name = "not_null"
    static let keys: Set<String> = ["columns"]
    let columns: [String]

    init(_ fields: FieldReader) throws {
        columns = try fields.strings("columns")
    }

    func columns(table: String) -> [(table: String, columns: [String])] { [(table, columns)] }

    func plan(_ context: PlanContext) throws -> CheckPlan {
        context.rows(failingWhen: columns.map { "\(PlanContext.column($0)) IS NULL" as SQL }.joined(separator: " OR "))
    }
}
