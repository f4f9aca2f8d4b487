import Foundation
import Logging
import Postgres

/// The warehouse tables a committed publish wrote so much of that autovacuum would vacuum them
/// next, by autovacuum's own rule for inserted rows (more than `autovacuum_vacuum_insert_threshold`
/// plus `autovacuum_vacuum_insert_scale_factor` of the table). The run vacuums and analyzes them
/// itself, once it has committed: the work lands in the run that caused it (a first build of a
/// 10M month: 16 tables in 44 s, fifteenth session) instead of beside the hourly runs that follow
/// it, whose night hours took 5.6-7.3 s against 3.2 s while autovacuum worked through a freshly
/// built warehouse (docs/performance.md, fourteenth session).
struct VacuumDue {
    /// Qualified table name -> rows the publish wrote (deleted and inserted).
    let written: [String: Int]

    /// From the partitions a publish replaced: each one's rows went and its new rows came. A
    /// merge's changes give partition totals, not rows written, and are not counted here.
    init(published changes: [PartitionChange]) {
        written = changes.reduce(into: [:]) { $0[$1.table, default: 0] += $1.rowsBefore + $1.rowsAfter }
    }

    /// The tables past autovacuum's insert threshold (none when the server turns it off), by name.
    func tables(on connection: Connection) throws -> [String] {
        guard !written.isEmpty else { return [] }
        let names = written.keys.sorted()
        return try connection.query("""
            SELECT t.name FROM unnest(\(texts: names), \(texts: names.map { String(written[$0] ?? 0) })) AS t(name, rows)
            JOIN pg_class c ON c.oid = to_regclass(t.name)
            WHERE current_setting('autovacuum_vacuum_insert_threshold')::bigint >= 0
              AND t.rows::bigint > current_setting('autovacuum_vacuum_insert_threshold')::bigint
                  + current_setting('autovacuum_vacuum_insert_scale_factor')::float8 * greatest(c.reltuples, 0)
            ORDER BY t.name
            """).rows.map { try $0.decode(String.self, at: 0) }
    }

    /// Vacuums and analyzes the due tables, outside any transaction (the publish has committed).
    /// Returns the tables vacuumed.
    @discardableResult
    func run(on connection: Connection, logger: Logger, progress: (String) -> Void) throws -> [String] {
        let due = try tables(on: connection)
        guard !due.isEmpty else { return [] }
        progress("vacuuming \(due.count) table\(due.count == 1 ? "" : "s") the build rewrote (as autovacuum would next)")
        for name in due {
            let started = Date()
            let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
            try connection.execute("VACUUM (ANALYZE) \(schema: parts[0], table: parts[1])")
            logger.debug("vacuum: \(name) in \(Int(Date().timeIntervalSince(started) * 1000)) ms")
        }
        return due
    }
}
