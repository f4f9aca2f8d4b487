import Foundation
import Postgres

extension Connection {
    /// Creates index `name` on `schema.table (columns)` when the catalog has no relation of that
    /// name. Not `CREATE INDEX IF NOT EXISTS` alone: it takes the table's share lock before it looks
    /// for the name, so on a warehouse table that autovacuum is working on every run waited a
    /// second (deadlock_timeout, after which autovacuum gives way) for an index that was there:
    /// three such waits in one hourly run at 10,000,000 orders a month.
    func createIndexIfMissing(_ name: String, schema: String, table: String, columns: [String]) throws {
        guard try !indexExists(name, schema: schema) else { return }
        let list = columns.map { "\(identifier: $0)" as SQL }.joined(separator: ", ")
        try execute("CREATE INDEX IF NOT EXISTS \(identifier: name) ON \(schema: schema, table: table) (\(list))")
    }

    /// Drops index `name` of `schema` when the catalog has one, without the table's lock otherwise.
    func dropIndexIfPresent(_ name: String, schema: String) throws {
        guard try indexExists(name, schema: schema) else { return }
        try execute("DROP INDEX IF EXISTS \(schema: schema, table: name)")
    }

    /// Whether `schema` holds a relation named `name`: a catalog lookup that takes no table lock.
    private func indexExists(_ name: String, schema: String) throws -> Bool {
        try query("SELECT to_regclass(\(quoteIdentifier(schema) + "." + quoteIdentifier(name))) IS NOT NULL").scalar()
    }
}
