import Foundation
import Postgres
import Testing

@testable import FundRecon

/// A merge finds the rows its batch replaces key by key through the table's index while the batch
/// is small next to the table, and the result is the same whichever way it looks them up.
@Suite("Merge lookups: a small batch reaches its rows through the key's index, not by reading the table")
struct KeyLookupTests {
    /// A warehouse table of `rows` rows keyed by `id` (with `index`, if any, on it), and a
    /// temporary batch of `batchRows` rows: its first half the table's last keys with new amounts,
    /// its second half new keys.
    struct Fixture {
        let connection: Connection
        let warehouse: RunSchemas
        let prefix: String
        let destination: SQL

        init(on connection: Connection, rows: Int, batchRows: Int, index: SQL?) throws {
            self.connection = connection
            prefix = "kl" + String(UUID().uuidString.prefix(8)).lowercased()
            warehouse = RunSchemas(prefix: prefix)
            destination = "\(schema: warehouse.name(.dwd), table: "dwd_k")"
            try RunHistory.ensure(on: connection)
            try connection.execute("CREATE SCHEMA \(identifier: warehouse.name(.dwd))")
            try connection.execute("CREATE TABLE \(destination) (id bigint, day date, amount numeric(18,2))")
            try connection.execute("""
                INSERT INTO \(destination) SELECT n, DATE '2026-10-01' + (n % 30), (n % 1000) / 100.0 FROM generate_series(1, \(integer: rows)) n
                """)
            if let index { try connection.execute("CREATE INDEX ON \(destination) \(index)") }
            try connection.execute("ANALYZE \(destination)")
            let first = rows - batchRows / 2 + 1
            try connection.execute("""
                CREATE TEMPORARY TABLE k__batch ON COMMIT DROP AS
                SELECT n::bigint AS id, DATE '2026-10-01' + (n % 30) AS day, 99.99::numeric(18,2) AS amount
                FROM generate_series(\(integer: first), \(integer: first + batchRows - 1)) n
                """)
            if let index { try connection.execute("CREATE INDEX ON k__batch \(index)") }
            try connection.execute("ANALYZE k__batch")
        }

        func remove() {
            _ = try? connection.execute("DROP SCHEMA IF EXISTS \(identifier: warehouse.name(.dwd)) CASCADE")
            _ = try? connection.execute("DELETE FROM recon_meta.partitions WHERE schema_prefix = \(prefix)")
        }

        /// Merges the batch; returns how many times the table was read whole meanwhile, and after it
        /// the table's rows, those with the batch's amount, and the rows beyond one per key.
        func merge() throws -> (sequentialScans: Int, rows: Int, changed: Int, duplicated: Int) {
            let publisher = Publisher(staging: warehouse, target: warehouse, prefix: prefix, runID: "t", logger: quietLogger)
            let table = Publisher.Table(name: "dwd_k", layer: .dwd, partitionBy: "day")
            func scans() throws -> Int {
                try connection.query("""
                    SELECT coalesce(seq_scan, 0)::int FROM pg_stat_xact_user_tables WHERE relid = to_regclass(\(destination.text))
                    """).scalar()
            }
            try publisher.indexPartitions(table, on: connection)  // (its build reads the table, as a first merge's does)
            let before = try scans()
            _ = try publisher.merge(table, uniqueKey: ["id"], batch: "k__batch", closedBefore: #require(CalendarDate("2026-11-01")),
                                    on: connection)
            let sequentialScans = try scans() - before
            let counts = try connection.query("""
                SELECT count(*)::int, count(*) FILTER (WHERE amount = 99.99)::int, count(DISTINCT id)::int FROM \(destination)
                """).rows[0]
            return (sequentialScans, try counts.decode(Int.self, at: 0), try counts.decode(Int.self, at: 1),
                    try counts.decode(Int.self, at: 0) - (try counts.decode(Int.self, at: 2)))
        }

        func lookup(batchRows: Int) throws -> KeyLookup {
            try KeyLookup(destination: destination, uniqueKey: ["id"], batch: "k__batch", batchRows: batchRows, on: connection)
        }
    }

    /// 2,000 rows into 60,000 (the share of a day's settlement lines in a month's): looked up by
    /// the key's index (a hash index, or a B-tree led by the key), the table is never read whole,
    /// and the batch's keys replace their rows.
    @Test(arguments: ["USING hash (id)", "(id, day)"] as [SQL])
    func aSmallBatchIsLookedUpByTheKeysIndex(index: SQL) throws {
        let run = try RunSession(on: SharedCluster.target(), logger: quietLogger)
        defer { try? run.close() }
        try run.connection.transaction { connection in
            let fixture = try Fixture(on: connection, rows: 60_000, batchRows: 2_000, index: index)
            defer { fixture.remove() }
            #expect(try fixture.lookup(batchRows: 2_000).probed)
            let merged = try fixture.merge()
            #expect(merged.sequentialScans == 0)
            #expect(merged.rows == 61_000 && merged.changed == 2_000 && merged.duplicated == 0)
        }
    }

    /// Without an index on the key, or with a batch of more than an eighth of the table, the keys
    /// go to the planner as an IN; the merge is the same.
    @Test func otherwiseTheKeysAreAnInForThePlanner() throws {
        let run = try RunSession(on: SharedCluster.target(), logger: quietLogger)
        defer { try? run.close() }
        try run.connection.transaction { connection in
            let unindexed = try Fixture(on: connection, rows: 16_000, batchRows: 1_000, index: nil)
            defer { unindexed.remove() }
            #expect(try !unindexed.lookup(batchRows: 1_000).probed)
            let merged = try unindexed.merge()
            #expect(merged.rows == 16_500 && merged.changed == 1_000 && merged.duplicated == 0)
        }
        try run.connection.transaction { connection in
            let large = try Fixture(on: connection, rows: 16_000, batchRows: 4_000, index: "(id)")
            defer { large.remove() }
            #expect(try large.lookup(batchRows: 2_000).probed)
            #expect(try !large.lookup(batchRows: 2_001).probed)
            let merged = try large.merge()
            #expect(merged.rows == 18_000 && merged.changed == 4_000 && merged.duplicated == 0)
        }
    }
}
