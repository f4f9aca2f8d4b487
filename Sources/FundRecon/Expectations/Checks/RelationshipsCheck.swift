import Postgres

/// `relationships`: a row whose key has no row in `to` fails (NULL keys pass). In a scoped run
/// (`period`) the period's rows are looked up, and only their keys are read from `to`.
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
        let keys = target.keys.map { "\(identifier: $0)" as SQL }.joined(separator: ", ")
        var targetConditions = target.where.map { [PlanContext.fragment($0)] } ?? []
        if let childKeys = context.periodKeys(columns) {
            targetConditions.append("(\(keys)) IN (\(childKeys))")
        }
        let targetFilter: SQL = targetConditions.isEmpty ? "" : " WHERE " + targetConditions.joined(separator: " AND ")
        // An anti-join against the target's distinct keys, not a correlated NOT EXISTS: the same rows,
        // and a form a distributed warehouse (Citus) runs when the two tables are not co-located.
        return .failingRows(query: """
            SELECT \(PlanContext.columns(columns, of: "c")) FROM \(context.relation) c
            LEFT JOIN (SELECT DISTINCT \(keys) FROM \(context.relation(target.table))\(targetFilter)) p ON \(join)
            WHERE \(context.filter) AND \(present) AND p.\(identifier: target.keys[0]) IS NULL
            """, count: "count(*)", observed: nil)
    }
}
