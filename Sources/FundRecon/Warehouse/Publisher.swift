import Foundation
import Logging
import Postgres

/// Moves freshly built tables from a run's staging schemas into a persistent warehouse, touching
/// only the partitions whose rows changed. Each partition's digest (row count and an
/// order-independent sum of row hashes) is kept in `recon_meta.partitions`; a partition whose
/// digest is unchanged is not written. Runs inside the caller's transaction: a run killed before
/// the commit leaves the warehouse as it was.
struct Publisher {
    let staging: RunSchemas
    let target: RunSchemas
    let prefix: String
    let runID: String
    let logger: Logger

    /// One table to publish: its name, layer and partition column.
    struct Table {
        var name: String
        var layer: Layer
        var partitionBy: String?
        var restatements = true
    }

    /// Publishes every table; `closedBefore` is the first day of the run's period (partitions of
    /// days, or months, ending by then are closed).
    func publish(_ tables: [Table], closedBefore: CalendarDate, on connection: Connection) throws -> [PartitionChange] {
        var changes: [PartitionChange] = []
        for table in tables {
            changes += try publish(table, closedBefore: closedBefore, on: connection)
        }
        return changes
    }

    func publish(_ table: Table, closedBefore: CalendarDate, on connection: Connection) throws -> [PartitionChange] {
        let source: SQL = "\(schema: staging.name(table.layer), table: table.name)"
        let destination: SQL = "\(schema: target.name(table.layer), table: table.name)"
        let key: SQL = table.partitionBy.map { "coalesce(\(identifier: $0)::text, '')" } ?? "'*'"
        let qualified = target.name(table.layer) + "." + table.name

        var stored: [String: (rows: Int, digest: String)] = [:]
        if try signature(source, connection) != signature(destination, connection) {
            // New, or its columns changed with the pipeline: replaced whole (every partition rewritten).
            try connection.execute("DROP TABLE IF EXISTS \(destination)")
            try connection.execute("CREATE TABLE \(destination) (LIKE \(source) INCLUDING ALL)")
            logger.info("publish: \(qualified) created from the build")
            for row in try storedDigests(qualified, connection).rows { stored[try row.decode(String.self, at: 0)] = (0, "") }
        } else {
            for row in try storedDigests(qualified, connection).rows {
                stored[try row.decode(String.self, at: 0)] = (try row.decode(Int.self, at: 1), try row.decode(String.self, at: 2))
            }
        }
        var fresh: [String: (rows: Int, digest: String)] = [:]
        let digests = try connection.query("""
            SELECT \(key) AS part, count(*), sum(hashtextextended(t::text, 0)::numeric)::text
            FROM \(source) t GROUP BY 1
            """)
        for row in digests.rows {
            fresh[try row.decode(String.self, at: 0)] = (try row.decode(Int.self, at: 1), try row.decode(String.self, at: 2))
        }
        let changed = fresh.keys.filter { stored[$0]?.digest != fresh[$0]?.digest }.sorted()
        let removed = stored.keys.filter { fresh[$0] == nil }.sorted()
        guard !changed.isEmpty || !removed.isEmpty else { return [] }

        let monthly = table.partitionBy?.contains("month") == true
        var changes = (changed + removed).map { part in
            let before = stored[part]
            var closed = false
            if let day = CalendarDate(String(part.prefix(10))) {
                let end = monthly ? day.adding(days: 32).firstOfMonth : day.adding(days: 1)
                closed = end <= closedBefore
            }
            return PartitionChange(table: qualified, partition: part, rowsBefore: before?.rows ?? 0, rowsAfter: fresh[part]?.rows ?? 0,
                                   restatement: table.restatements && closed && before != nil && !(before?.digest.isEmpty ?? true))
        }
        // Restated money: each amount column's total in the partition, before and after.
        let restated = changes.filter(\.restatement).map(\.partition)
        if !restated.isEmpty, table.partitionBy != nil {
            let amounts = try amountChanges(of: restated, key: key, before: destination, after: source, on: connection)
            for index in changes.indices { changes[index].amounts = amounts[changes[index].partition] }
        }

        let list = (changed + removed).joined(separator: "\u{1F}")
        let changedList = changed.joined(separator: "\u{1F}")
        if table.partitionBy == nil {
            try connection.execute("DELETE FROM \(destination)")
        } else {
            try connection.execute("DELETE FROM \(destination) WHERE \(key) = ANY(string_to_array(\(list), E'\\x1F'))")
        }
        if !changed.isEmpty {
            try connection.execute(table.partitionBy == nil
                ? "INSERT INTO \(destination) SELECT * FROM \(source)"
                : "INSERT INTO \(destination) SELECT * FROM \(source) WHERE \(key) = ANY(string_to_array(\(changedList), E'\\x1F'))")
        }
        try connection.execute("ANALYZE \(destination)")
        try connection.execute("""
            DELETE FROM recon_meta.partitions
            WHERE schema_prefix = \(prefix) AND table_name = \(qualified) AND partition_key = ANY(string_to_array(\(list), E'\\x1F'))
            """)
        try connection.copyIn("COPY recon_meta.partitions (schema_prefix, table_name, partition_key, row_count, digest, run_id) FROM STDIN") {
            writer in
            for part in changed {
                try writer.writeRow([prefix, qualified, part, String(fresh[part]!.rows), fresh[part]!.digest, runID])
            }
        }
        return changes
    }

    /// Per partition, the money columns (`numeric(p,2)`) whose totals differ between the
    /// published rows and the new ones, per currency when the table has one, as exact text.
    func amountChanges(of parts: [String], key: SQL, before: SQL, after: SQL,
                       on connection: Connection) throws -> [String: [AmountChange]] {
        let columns = try connection.query("""
            SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
            WHERE a.attrelid = to_regclass(\(after.text)) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
            """).rows.map { (try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1)) }
        // Money is numeric with two decimals (or a bare numeric a model left unconstrained); rates have four.
        let money = columns.filter { $0.1 == "numeric" || ($0.1.hasPrefix("numeric(") && $0.1.hasSuffix(",2)")) }.map(\.0)
        guard !money.isEmpty else { return [:] }
        // Amounts of different currencies are never added together.
        let currency: SQL = columns.contains { $0.0 == "currency" } ? "coalesce(currency, '')" : "''"
        let sums = money.map { "coalesce(sum(\(identifier: $0)), 0)::text" as SQL }.joined(separator: ", ")
        let list = parts.joined(separator: "\u{1F}")
        func totals(_ relation: SQL) throws -> [String: [String]] {
            var result: [String: [String]] = [:]
            for row in try connection.query("""
                SELECT \(key) || '|' || \(currency), \(sums) FROM \(relation)
                WHERE \(key) = ANY(string_to_array(\(list), E'\\x1F')) GROUP BY 1
                """).rows {
                result[try row.decode(String.self, at: 0)] = try (1...money.count).map { try row.decode(String.self, at: $0) }
            }
            return result
        }
        let (old, new) = (try totals(before), try totals(after))
        var changes: [String: [AmountChange]] = [:]
        for slot in Set(old.keys).union(new.keys).sorted() {
            let part = String(slot[..<slot.lastIndex(of: "|")!])
            let code = String(slot[slot.index(after: slot.lastIndex(of: "|")!)...])
            let was = old[slot] ?? Array(repeating: "0.00", count: money.count)
            let now = new[slot] ?? Array(repeating: "0.00", count: money.count)
            changes[part, default: []] += money.indices.filter { was[$0] != now[$0] }
                .map { AmountChange(column: money[$0], currency: code.isEmpty ? nil : code, before: was[$0], after: now[$0]) }
        }
        return changes
    }

    /// Column names and types in order: tables with equal signatures take each other's rows.
    func signature(_ relation: SQL, _ connection: Connection) throws -> [String] {
        try connection.query("""
            SELECT a.attname || ' ' || format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
            WHERE a.attrelid = to_regclass(\(relation.text)) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
            """).rows.map { try $0.decode(String.self, at: 0) }
    }

    func storedDigests(_ qualified: String, _ connection: Connection) throws -> QueryResult {
        try connection.query("""
            SELECT partition_key, row_count, digest FROM recon_meta.partitions
            WHERE schema_prefix = \(prefix) AND table_name = \(qualified)
            """)
    }
}
