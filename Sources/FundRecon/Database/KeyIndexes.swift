import Postgres

/// What one table offers a statement that would look its rows up key by key: its estimated rows
/// and the column lists its indexes look rows up by. A merge's `KeyLookup` and a scoped
/// reconcile's sides both probe a table once per key only when such an index exists: a probe
/// without one reads the table whole for every key.
struct KeyIndexes: Sendable {
    /// The planner's estimate of the table's rows (`pg_class.reltuples`); nil when never analyzed.
    var rows: Int?
    /// Each valid index over every row (not partial): its access method and its key columns in
    /// order (nil for an expression).
    var indexes: [(method: String, columns: [String?])] = []

    /// True when an index finds the rows with given values of `columns`: a B-tree whose leading
    /// key columns are those columns in any order, or a hash index on that one column.
    func looksUp(_ columns: [String]) -> Bool {
        guard !columns.isEmpty else { return false }
        return indexes.contains { index in
            switch index.method {
            case "btree":
                return index.columns.count >= columns.count
                    && Set(index.columns.prefix(columns.count).compactMap { $0 }) == Set(columns)
                    && index.columns.prefix(columns.count).allSatisfy { $0 != nil }
            case "hash":
                return columns.count == 1 && index.columns == [columns[0]]
            default:
                return false
            }
        }
    }

    /// The tables among `relations` (quoted, qualified names) that exist, by name: one catalog query.
    static func load(_ relations: [String], on connection: Connection) throws -> [String: KeyIndexes] {
        var found: [String: KeyIndexes] = [:]
        guard !relations.isEmpty else { return found }
        for row in try connection.query("""
            SELECT r.name, round(c.reltuples)::bigint, a.amname::text,
                   (SELECT string_agg(coalesce(t.attname::text, ''), E'\\x1f' ORDER BY k.position)
                    FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, position)
                    LEFT JOIN pg_attribute t ON t.attrelid = i.indrelid AND t.attnum = k.attnum AND k.attnum > 0
                    WHERE k.position <= i.indnkeyatts)
            FROM unnest(\(texts: relations)) AS r(name)
            JOIN pg_class c ON c.oid = to_regclass(r.name)
            LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisvalid AND i.indpred IS NULL
            LEFT JOIN pg_class ic ON ic.oid = i.indexrelid
            LEFT JOIN pg_am a ON a.oid = ic.relam
            """).rows {
            let name = try row.decode(String.self, at: 0)
            var entry = found[name] ?? KeyIndexes()
            let rows = try row.decode(Int.self, at: 1)
            entry.rows = rows >= 0 ? rows : nil
            if let method = try row.decode(String?.self, at: 2) {
                // Column names joined by the unit separator, which no name holds; '' for an expression.
                let columns = (try row.decode(String?.self, at: 3) ?? "")
                    .split(separator: "\u{1f}", omittingEmptySubsequences: false).map { $0.isEmpty ? nil : String($0) }
                entry.indexes.append((method, columns))
            }
            found[name] = entry
        }
        return found
    }
}
