import Postgres

/// What the checks need to know of the tables they read: their columns' types, and on a Citus
/// cluster how each distributed table is laid out.
struct TableCatalog {
    var columns: [String: [String: String]] = [:]  // relation -> column -> type
    /// Citus: the distributed tables among the relations (relation -> distribution column and
    /// co-location group). Empty on one PostgreSQL.
    var distribution: [String: Placement] = [:]

    /// A distributed table's layout: two tables of one `group` keep equal `column` values on one shard.
    struct Placement: Equatable {
        let column: String
        let group: Int
    }

    static func load(relations: Set<String>, connection: Connection) throws -> TableCatalog {
        var catalog = TableCatalog()
        for relation in relations.sorted() {
            let result = try connection.query("""
                SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
                WHERE a.attrelid = to_regclass(\(relation)) AND a.attnum > 0 AND NOT a.attisdropped
                """)
            var columns: [String: String] = [:]
            for row in result.rows { columns[try row.decode(String.self, at: 0)] = try row.decode(String.self, at: 1) }
            if !columns.isEmpty { catalog.columns[relation] = columns }
        }
        guard try Distribution.citusInstalled(on: connection) else { return catalog }
        for relation in relations.sorted() where catalog.columns[relation] != nil {
            // pg_dist_partition, not the citus_tables view, which lists only the tables the role owns
            // (the checks run as a role that may only read them)
            let rows = try connection.query("""
                SELECT column_to_column_name(logicalrelid, partkey), colocationid FROM pg_dist_partition
                WHERE logicalrelid = to_regclass(\(relation)) AND partmethod = 'h'
                """).rows
            if let row = rows.first {
                catalog.distribution[relation] = Placement(column: try row.decode(at: 0), group: try row.decode(at: 1))
            }
        }
        return catalog
    }

    /// The column `first` and `second` are both distributed on, when they are co-located tables of
    /// a Citus cluster: rows with equal values of it lie on one shard. Nil on one PostgreSQL.
    func sharedDistribution(_ first: String, _ second: String) -> String? {
        guard let one = distribution[first], one == distribution[second] else { return nil }
        return one.column
    }
}
