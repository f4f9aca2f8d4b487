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
        let grouping = Grouping(relation: context.relation, keys: columns, filter: context.filter, aggregates: [])
        let keys = columns.enumerated().map { "g.\(identifier: "k\($0)") AS \(identifier: $1)" as SQL }.joined(separator: ", ")
        return .grouped(GroupedPlan(groupings: [grouping], build: { rows in
            "SELECT \(keys), g.lines AS occurrences FROM (\(rows[0])) g WHERE g.lines > 1"
        }, output: .failingRows(count: "sum(occurrences)", columns: columns + ["occurrences"])))
    }
}
