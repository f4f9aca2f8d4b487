import Postgres

/// `unique`: a key that occurs more than once; every row of such a group fails.
struct UniqueCheck: CheckType {
    static let name = "unique"
    static let keys: Set<String> = ["columns"]
    let columns: [String]

    init(_ fields: FieldReader) throws {
        columns = try fields.strings("columns")
    }

    func columns(table: String) -> [(table: String, columns: [String])] { [(table, columns)] }

    func plan(_ context: PlanContext) throws -> CheckPlan {
        let keys = PlanContext.columns(columns)
        return .failingRows(query: """
            SELECT \(keys), count(*) AS occurrences FROM \(context.relation) WHERE \(context.filter)
            GROUP BY \(keys) HAVING count(*) > 1
            """, count: "sum(occurrences)", observed: nil)
    }
}
