import Postgres

/// `relationships`: a row whose key has no row in `to` fails (NULL keys pass). In a scoped run
/// (`period`) only the period's rows are looked up in `to`.
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
        let targetFilter: SQL = target.where.map { " WHERE \(PlanContext.fragment($0))" } ?? ""
        // An anti-join to the target's keys (a row with several matches is dropped all the same), not
        // a correlated NOT EXISTS: the same rows, in a form a distributed warehouse (Citus) runs when
        // the two tables are not co-located. No DISTINCT: PostgreSQL 15's hash aggregate of a
        // parallel scan can spill into hundreds of thousands of batches (180 s for 300,000 keys,
        // where the anti-join takes 0.2 s). A scoped run's rows are few; each probes the target's
        // index when the planner finds that cheaper than reading the target whole.
        let parent = context.relation(target.table)
        if let shared = context.catalog.sharedDistribution(context.relation.text, parent.text),
           !columns.contains(shared), !target.keys.contains(shared) {
            return .failingRows(query: colocatedLookup(context, on: shared, present: present, keys: keys, targetFilter: targetFilter),
                                count: "count(*)", observed: nil)
        }
        return .failingRows(query: """
            SELECT \(PlanContext.columns(columns, of: "c")) FROM \(context.relation) c
            LEFT JOIN (SELECT \(keys) FROM \(parent)\(targetFilter)) p ON \(join)
            WHERE \(context.filter) AND \(present) AND p.\(identifier: target.keys[0]) IS NULL
            """, count: "count(*)", observed: nil)
    }

    /// On Citus, for two tables distributed on one column `shared` that the keys do not contain
    /// (refunds and payments on order_id, related by payment_id): a row is first looked up within
    /// its shard, among the target rows of its own `shared` value, which runs on the workers; only
    /// the rows not found there (a refund of another order's payment, or a broken one) are then
    /// looked up by the keys alone. The same failing rows as the plain anti-join, which Citus could
    /// only run by gathering every target key on the coordinator.
    func colocatedLookup(_ context: PlanContext, on shared: String, present: SQL, keys: SQL, targetFilter: SQL) -> SQL {
        let parent = context.relation(target.table)
        // the target's columns renamed, so that a `where` naming the child's columns stays unambiguous
        let aliased = target.keys.indices.map { "\(identifier: target.keys[$0]) AS \(identifier: "_k\($0)")" as SQL }.joined(separator: ", ")
        let withinShard = columns.indices.map { "p.\(identifier: "_k\($0)") = c.\(identifier: columns[$0])" as SQL }.joined(separator: " AND ")
        let byKeys = columns.indices.map { "p.\(identifier: "_k\($0)") = x.\(identifier: columns[$0])" as SQL }.joined(separator: " AND ")
        let restricted: SQL = target.where.map { " WHERE (\(PlanContext.fragment($0))) AND" } ?? " WHERE"
        return """
            WITH candidates AS MATERIALIZED (
              SELECT \(PlanContext.columns(columns, of: "c")) FROM \(context.relation) c
              LEFT JOIN (SELECT \(identifier: shared) AS _shared, \(aliased) FROM \(parent)\(targetFilter)) p
                ON p._shared = c.\(identifier: shared) AND \(withinShard)
              WHERE \(context.filter) AND \(present) AND p._k0 IS NULL)
            SELECT \(PlanContext.columns(columns, of: "x")) FROM candidates x
            LEFT JOIN (SELECT \(aliased) FROM \(parent)\(restricted) (\(keys)) IN (SELECT \(PlanContext.columns(columns)) FROM candidates)) p
              ON \(byKeys)
            WHERE p._k0 IS NULL
            """
    }
}
