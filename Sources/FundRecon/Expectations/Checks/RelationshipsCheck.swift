import Postgres

/// `relationships`: a row whose key has no row in `to` fails (NULL keys pass).
struct RelationshipsCheck: CheckType {
    static let name = "relationships"
    static let keys: Set<String> = ["columns", "to"]
    let columns: [String]
    let target: TableSide

    init(_ fields: FieldReader) throws {
        columns = try fields.strings("columns")
        target = try fields.side("to", needs: ["table", "columns"])
    }

    var otherTables: [String] { [target.table] }

    func columns(table: String) -> [(table: String, columns: [String])] { [(table, columns), (target.table, target.keys)] }

    func plan(_ context: PlanContext) throws -> CheckPlan {
        let join = zip(columns, target.keys).map { "p.\(identifier: $1) = c.\(identifier: $0)" as SQL }.joined(separator: " AND ")
        let present = columns.map { "c.\(identifier: $0) IS NOT NULL" as SQL }.joined(separator: " AND ")
        let targetFilter: SQL = target.where.map { " AND \(PlanContext.fragment($0))" } ?? ""
        return .failingRows(query: """
            SELECT \(PlanContext.columns(columns, of: "c")) FROM \(context.relation) c
            WHERE \(context.filter) AND \(present)
              AND NOT EXISTS (SELECT 1 FROM \(context.relation(target.table)) p WHERE \(join)\(targetFilter))
            """, count: "count(*)", observed: nil)
    }
}
