import Postgres

/// `unique`: a key that occurs more than once; every row of such a group fails.
///
/// In a scoped run (`period`), the keys of the period's rows are counted over every row the
/// `where` keeps: a copy of a period's row in another period is still a duplicate, and the count
/// reads those keys' rows through an index, not the whole table.
struct UniqueCheck: CheckType {
    static let name = "unique"
    static let keys: Set<String> = ["columns"]
    let columns: [String]

    init(_ fields: FieldReader) throws {
        columns = try fields.strings("columns")
    }

    func columns(table: String) -> [(table: String, columns: [String])] { [(table, columns)] }

    func plan(_ context: PlanContext) throws -> CheckPlan {
        var grouping = Grouping(relation: context.relation, keys: columns, filter: context.rowFilter, aggregates: [])
        if let keys = context.periodKeys(columns) {
            grouping.within = .condition("(\(PlanContext.columns(columns))) IN (\(keys))")
        }
        let keys = columns.enumerated().map { "g.\(identifier: "k\($0)") AS \(identifier: $1)" as SQL }.joined(separator: ", ")
        return .grouped(GroupedPlan(groupings: [grouping], build: { rows in
            "SELECT \(keys), g.lines AS occurrences FROM (\(rows[0])) g WHERE g.lines > 1"
        }, output: .failingRows(count: "sum(occurrences)", columns: columns + ["occurrences"])))
    }
}
