import Postgres

/// `accepted_values`: a value not in the list fails (NULL passes unless `allow_null: false`).
struct AcceptedValuesCheck: CheckType {
    static let name = "accepted_values"
    static let keys: Set<String> = ["column", "values", "allow_null"]
    let column: String
    let values: [String]
    let allowNull: Bool

    init(_ fields: FieldReader) throws {
        column = try fields.string("column")
        values = try fields.scalars("values")
        allowNull = try fields.optionalBool("allow_null") ?? true
    }

    func columns(table: String) -> [(table: String, columns: [String])] { [(table, [column])] }

    func plan(_ context: PlanContext) throws -> CheckPlan {
        let name = PlanContext.column(column)
        let list = values.map { "\(literal: $0)" as SQL }.joined(separator: ", ")
        let outside: SQL = "(\(name) IS NOT NULL AND \(name)::text NOT IN (\(list)))"
        return context.rows(failingWhen: allowNull ? outside : "\(name) IS NULL OR \(outside)")
    }
}
