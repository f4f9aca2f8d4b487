import Postgres

/// What the checks need to know of the tables they read: their columns' types, the indexes that
/// look their rows up by key, and on a Citus cluster how each distributed table is laid out.
struct TableCatalog {
    var columns: [String: [String: String]] = [:]  // relation -> column -> type
    /// The indexes of each relation that look rows up by some of their columns (a scoped
    /// reconcile reads its candidate keys through them).
    var keyIndexes: [String: KeyIndexes] = [:]
    /// Citus: how the relations Citus manages are laid out (`Distribution.layouts`). Empty on one
    /// PostgreSQL.
    var layouts: [String: TableLayout] = [:]

    static func load(relations: Set<String>, connection: Connection) throws -> TableCatalog {
        var catalog = TableCatalog()
        let names = relations.sorted()
        guard !names.isEmpty else { return catalog }
        for row in try connection.query("""
            SELECT r.name, a.attname, format_type(a.atttypid, a.atttypmod)
            FROM unnest(\(texts: names)) AS r(name)
            JOIN pg_attribute a ON a.attrelid = to_regclass(r.name) AND a.attnum > 0 AND NOT a.attisdropped
            """).rows {
            catalog.columns[try row.decode(String.self, at: 0), default: [:]][try row.decode(String.self, at: 1)] = try row.decode(String.self, at: 2)
        }
        let present = names.filter { catalog.columns[$0] != nil }
        catalog.keyIndexes = try KeyIndexes.load(present, on: connection)
        catalog.layouts = try Distribution.layouts(of: present, on: connection)
        return catalog
    }

    /// The columns `first` and `second` are distributed on, when they are co-located distributed
    /// tables of a Citus cluster: a row of `first` and a row of `second` whose values of them are
    /// equal lie on one shard. Nil on one PostgreSQL.
    func colocation(_ first: String, _ second: String) -> (first: String, second: String)? {
        guard let one = layouts[first]?.distribution, let other = layouts[second]?.distribution, one.group == other.group else { return nil }
        return (one.column, other.column)
    }

    /// The column `first` and `second` are both distributed on, when they are co-located tables of
    /// a Citus cluster: rows with equal values of it lie on one shard. Nil on one PostgreSQL.
    func sharedDistribution(_ first: String, _ second: String) -> String? {
        guard let (one, other) = colocation(first, second), one == other else { return nil }
        return one
    }
}
