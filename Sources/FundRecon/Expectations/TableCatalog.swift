import Postgres

/// Columns and their types of the tables checks use, read once before any check runs.
struct TableCatalog {
    var columns: [String: [String: String]] = [:]  // relation -> column -> type

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
        return catalog
    }
}
