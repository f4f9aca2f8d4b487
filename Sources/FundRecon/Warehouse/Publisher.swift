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

    /// A warehouse table's index on its partition column: a period's checks and a restatement's
    /// totals read one partition by it, not the whole table.
    func indexPartitions(_ table: Table, on connection: Connection) throws {
        guard let column = table.partitionBy, let name = partitionIndexName(table) else { return }
        try connection.createIndexIfMissing(name, schema: target.name(table.layer), table: table.name, columns: [column])
    }

    /// The name of `indexPartitions`' index, for a table with a partition column.
    func partitionIndexName(_ table: Table) -> String? {
        table.partitionBy.map { String((table.name + "_" + $0 + "_part").prefix(63)) }
    }

    func publish(_ table: Table, closedBefore: CalendarDate, on connection: Connection) throws -> [PartitionChange] {
        let source: SQL = "\(schema: staging.name(table.layer), table: table.name)"
        let destination: SQL = "\(schema: target.name(table.layer), table: table.name)"
        defer { _ = try? indexPartitions(table, on: connection) }
        let key = PartitionColumn.key(table.partitionBy)
        let qualified = target.name(table.layer) + "." + table.name

        var stored: [String: (rows: Int, digest: String)] = [:]
        let moved = try signature(source, connection) != signature(destination, connection)
        if moved {
            // New, or its columns changed with the pipeline: replaced whole (every partition
            // rewritten) by the built table itself, moved rather than copied, so that a first build
            // does not hold the warehouse twice on disk (its layout, indexes and statistics go with it).
            try connection.execute("DROP TABLE IF EXISTS \(destination)")
            try connection.execute("ALTER TABLE \(source) SET SCHEMA \(identifier: target.name(table.layer))")
            logger.info("publish: \(qualified) moved in from the build")
            for row in try storedDigests(qualified, connection).rows { stored[try row.decode(String.self, at: 0)] = (0, "") }
        } else {
            try alignIndexes(table, from: source, to: destination, on: connection)
            for row in try storedDigests(qualified, connection).rows {
                stored[try row.decode(String.self, at: 0)] = (try row.decode(Int.self, at: 1), try row.decode(String.self, at: 2))
            }
        }
        var fresh: [String: (rows: Int, digest: String)] = [:]
        let digests = try connection.query("""
            SELECT \(key) AS part, count(*), sum(hashtextextended(t::text, 0)::numeric)::text
            FROM \(moved ? destination : source) t GROUP BY 1
            """)
        for row in digests.rows {
            fresh[try row.decode(String.self, at: 0)] = (try row.decode(Int.self, at: 1), try row.decode(String.self, at: 2))
        }
        let changed = fresh.keys.filter { stored[$0]?.digest != fresh[$0]?.digest }.sorted()
        let removed = stored.keys.filter { fresh[$0] == nil }.sorted()
        guard !changed.isEmpty || !removed.isEmpty else { return [] }

        var changes = (changed + removed).map { part in
            let before = stored[part]
            return PartitionChange(table: qualified, partition: part, rowsBefore: before?.rows ?? 0, rowsAfter: fresh[part]?.rows ?? 0,
                                   restatement: table.restatements && isClosed(part, table, before: closedBefore) && before != nil
                                       && !(before?.digest.isEmpty ?? true))
        }
        let partition = try table.partitionBy.map { try PartitionColumn($0, of: destination, on: connection) }
        // Restated money: each amount column's total in the partition, before and after.
        let restated = changes.filter(\.restatement).map(\.partition)
        if !restated.isEmpty, let partition {
            let amounts = try amountChanges(of: restated, partition: partition, before: destination, after: source, on: connection)
            for index in changes.indices { changes[index].amounts = amounts[changes[index].partition] }
        }

        if !moved {
            // The same predicate selects the partitions that go and those that come.
            let gone: SQL = partition.map { " WHERE \($0.selecting(changed + removed))" } ?? ""
            try connection.execute("DELETE FROM \(destination)" + gone)
            if !changed.isEmpty {
                let come: SQL = partition.map { " WHERE \($0.selecting(changed))" } ?? ""
                try connection.execute("INSERT INTO \(destination) SELECT * FROM \(source)" + come)
            }
            try connection.execute("ANALYZE \(destination)")
        }
        try connection.execute("""
            DELETE FROM recon_meta.partitions
            WHERE schema_prefix = \(prefix) AND table_name = \(qualified) AND partition_key = ANY(\(texts: changed + removed))
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
    func amountChanges(of parts: [String], partition: PartitionColumn, before: SQL, after: SQL,
                       on connection: Connection) throws -> [String: [AmountChange]] {
        guard let money = try MoneyColumns(of: after, on: connection) else { return [:] }
        return money.changes(from: try money.totals(of: parts, partition: partition, in: before, on: connection),
                             to: try money.totals(of: parts, partition: partition, in: after, on: connection))
    }

    /// The money columns of a table and their totals per partition and currency.
    struct MoneyColumns {
        let columns: [String]
        let currency: SQL

        /// Nil when the table has no money column.
        init?(of relation: SQL, on connection: Connection) throws {
            let described = try connection.query("""
                SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
                WHERE a.attrelid = to_regclass(\(relation.text)) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
                """).rows.map { (try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1)) }
            // Money is numeric with two decimals (or a bare numeric a model left unconstrained); rates have four.
            columns = described.filter { $0.1 == "numeric" || ($0.1.hasPrefix("numeric(") && $0.1.hasSuffix(",2)")) }.map(\.0)
            guard !columns.isEmpty else { return nil }
            // Amounts of different currencies are never added together.
            currency = described.contains { $0.0 == "currency" } ? "coalesce(currency, '')" : "''"
        }

        /// `partition|currency` -> each money column's total, as exact text.
        func totals(of parts: [String], partition: PartitionColumn, in relation: SQL, on connection: Connection) throws -> [String: [String]] {
            let sums = columns.map { "coalesce(sum(\(identifier: $0)), 0)::text" as SQL }.joined(separator: ", ")
            var result: [String: [String]] = [:]
            for row in try connection.query("""
                SELECT \(partition.key) || '|' || \(currency), \(sums) FROM \(relation)
                WHERE \(partition.selecting(parts)) GROUP BY 1
                """).rows {
                result[try row.decode(String.self, at: 0)] = try (1...columns.count).map { try row.decode(String.self, at: $0) }
            }
            return result
        }

        /// Per partition, the columns whose totals differ between `old` and `new`.
        func changes(from old: [String: [String]], to new: [String: [String]]) -> [String: [AmountChange]] {
            var changes: [String: [AmountChange]] = [:]
            for slot in Set(old.keys).union(new.keys).sorted() {
                let part = String(slot[..<slot.lastIndex(of: "|")!])
                let code = String(slot[slot.index(after: slot.lastIndex(of: "|")!)...])
                let was = old[slot] ?? Array(repeating: "0.00", count: columns.count)
                let now = new[slot] ?? Array(repeating: "0.00", count: columns.count)
                changes[part, default: []] += columns.indices.filter { was[$0] != now[$0] }
                    .map { AmountChange(column: columns[$0], currency: code.isEmpty ? nil : code, before: was[$0], after: now[$0]) }
            }
            return changes
        }
    }

    /// Merges an incremental model's batch into its warehouse table as dbt-postgres's delete+insert
    /// does (the table's rows with a key of the batch go, the batch's rows come), inside the
    /// caller's transaction. Partition digests follow from the rows that went and came, so no
    /// partition is read whole; the partitions whose digest changed are returned, those of closed
    /// periods as restatements with their money before and after.
    func merge(_ table: Table, uniqueKey: [String], batch: SQL, closedBefore: CalendarDate,
               on connection: Connection) throws -> [PartitionChange] {
        let destination: SQL = "\(schema: target.name(table.layer), table: table.name)"
        let qualified = target.name(table.layer) + "." + table.name
        let columns = try signature(batch, connection)
        guard columns == (try signature(destination, connection)) else {
            throw RuntimeFailure(cause: "\(qualified) does not have the columns of \(table.name)'s new rows",
                                 fix: "rebuild the warehouse's models with --rebuild")
        }
        try indexPartitions(table, on: connection)
        try alignIndexes(table, from: batch, to: destination, on: connection)
        let key = PartitionColumn.key(table.partitionBy)
        var came: [String: (rows: Int, sum: Decimal)] = [:]
        for row in try connection.query("""
            SELECT \(key) AS part, count(*), coalesce(sum(hashtextextended(b::text, 0)::numeric), 0)::text
            FROM \(batch) b GROUP BY 1
            """).rows {
            came[try row.decode(String.self, at: 0)] = (try row.decode(Int.self, at: 1), Decimal(string: try row.decode(String.self, at: 2)) ?? 0)
        }
        let batchRows = came.values.reduce(0) { $0 + $1.rows }
        let lookup = try KeyLookup(destination: destination, uniqueKey: uniqueKey, batch: batch, batchRows: batchRows, on: connection)
        logger.debug("merge: \(qualified): \(batchRows) batch rows, their keys \(lookup.probed ? "looked up one by one through the key's index" : "an IN for the planner")")
        var went: [String: (rows: Int, sum: Decimal)] = [:]
        for row in try connection.query("""
            SELECT g.part, count(*), coalesce(sum(g.h::numeric), 0)::text FROM (\(lookup.goingRows(partitionKey: key))) g GROUP BY 1
            """).rows {
            went[try row.decode(String.self, at: 0)] = (try row.decode(Int.self, at: 1), Decimal(string: try row.decode(String.self, at: 2)) ?? 0)
        }
        let touched = Set(went.keys).union(came.keys).sorted()
        guard !touched.isEmpty else { return [] }
        var stored: [String: (rows: Int, sum: Decimal)] = [:]
        for row in try storedDigests(qualified, connection).rows {
            let part: String = try row.decode(at: 0)
            guard touched.contains(part) else { continue }
            stored[part] = (try row.decode(Int.self, at: 1), Decimal(string: try row.decode(String.self, at: 2)) ?? 0)
        }
        var fresh: [String: (rows: Int, sum: Decimal)] = [:]
        for part in touched {
            let before = stored[part] ?? (0, 0)
            fresh[part] = (before.rows - (went[part]?.rows ?? 0) + (came[part]?.rows ?? 0),
                           before.sum - (went[part]?.sum ?? 0) + (came[part]?.sum ?? 0))
        }
        let changed = touched.filter { fresh[$0]!.rows != (stored[$0]?.rows ?? 0) || fresh[$0]!.sum != (stored[$0]?.sum ?? 0) }
        var changes = changed.map { part in
            PartitionChange(table: qualified, partition: part, rowsBefore: stored[part]?.rows ?? 0, rowsAfter: fresh[part]!.rows,
                            restatement: table.restatements && stored[part] != nil && isClosed(part, table, before: closedBefore))
        }
        // Restated money: each amount column's total in the partition, before and after the merge.
        let restated = changes.filter(\.restatement).map(\.partition)
        var restatedMoney: (money: MoneyColumns, partition: PartitionColumn)?
        if !restated.isEmpty, let column = table.partitionBy, let money = try MoneyColumns(of: destination, on: connection) {
            restatedMoney = (money, try PartitionColumn(column, of: destination, on: connection))
        }
        let before = try restatedMoney.map { try $0.money.totals(of: restated, partition: $0.partition, in: destination, on: connection) } ?? [:]

        try connection.execute(lookup.delete)
        let names = columns.map { String($0.split(separator: " ")[0]) }.map { "\(identifier: $0)" as SQL }.joined(separator: ", ")
        try connection.execute("INSERT INTO \(destination) (\(names)) SELECT \(names) FROM \(batch)")
        try analyzeIfPastStatistics(destination, inserted: batchRows, on: connection)

        if let (money, partition) = restatedMoney {
            let amounts = money.changes(from: before, to: try money.totals(of: restated, partition: partition, in: destination, on: connection))
            for index in changes.indices { changes[index].amounts = amounts[changes[index].partition] }
        }
        try connection.execute("""
            DELETE FROM recon_meta.partitions WHERE schema_prefix = \(prefix) AND table_name = \(qualified)
              AND partition_key = ANY(\(texts: changed))
            """)
        try connection.copyIn("COPY recon_meta.partitions (schema_prefix, table_name, partition_key, row_count, digest, run_id) FROM STDIN") {
            writer in
            for part in changed where fresh[part]!.rows > 0 {
                try writer.writeRow([prefix, qualified, part, String(fresh[part]!.rows), "\(fresh[part]!.sum)", runID])
            }
        }
        return changes
    }

    /// Analyzes a merged table, in the run's transaction, when the merge inserted more rows than one
    /// bucket of its histograms holds (`autovacuum_analyze_threshold` plus the table's rows over
    /// `default_statistics_target`). The planner knows a column up to its last ANALYZE, so rows
    /// loaded since then lie past the end of the `_loaded_at` histogram; the models built after this
    /// one in the same build read it by `_loaded_at > watermark` and were planned for a handful of
    /// rows. At 10,000,000 orders the day's last hour merges 317,000 settlement lines, and
    /// `ads_gateway_recon`'s increment, planned for one row a side, joined 21,000 refunds to 10,000
    /// refund lines in a nested loop: 144 s; with the statistics 16 s. An ordinary hour's merges
    /// (0.1% of a table) stay well under the bar and are not analyzed.
    func analyzeIfPastStatistics(_ destination: SQL, inserted: Int, on connection: Connection) throws {
        guard inserted > 0 else { return }
        let due: Bool = try connection.query("""
            SELECT \(inserted)::float8 > current_setting('autovacuum_analyze_threshold')::float8
                   + greatest(c.reltuples, 0) / greatest(current_setting('default_statistics_target')::float8, 1)
            FROM pg_class c WHERE c.oid = to_regclass(\(destination.text))
            """).scalar()
        guard due else { return }
        let started = Date()
        try connection.execute("ANALYZE \(destination)")
        logger.debug("merge: \(destination.text) analyzed (\(inserted) new rows, past its statistics) in \(Int(Date().timeIntervalSince(started) * 1000)) ms")
    }

    /// True when a partition's period (a day, or a month for monthly tables) ended by `day`.
    func isClosed(_ part: String, _ table: Table, before day: CalendarDate) -> Bool {
        guard let start = CalendarDate(String(part.prefix(10))) else { return false }
        let monthly = table.partitionBy?.contains("month") == true
        return (monthly ? start.adding(days: 32).firstOfMonth : start.adding(days: 1)) <= day
    }

    /// Gives the warehouse table the indexes of the build's staging table or batch, which carry
    /// what the model's config declares: the ones it lacks are created (an index added to the config
    /// after the table was first published), and the ones the config no longer declares are dropped,
    /// as dbt's table builds have only the indexes their config declares. Kept: the partition index
    /// (`indexPartitions`) and indexes behind constraints. An index left behind is not harmless: the
    /// planner may keep choosing it over the one that replaced it (ads_gateway_recon's `match_status`
    /// index, read for every pending row each hour at 10,000,000 orders, against the
    /// `(match_status, event_date)` index that reads only the rows whose window closed).
    func alignIndexes(_ table: Table, from source: SQL, to destination: SQL, on connection: Connection) throws {
        // Each index as its definition without its name and table: `CREATE [UNIQUE] INDEX ON USING btree (...)`.
        func definitions(_ relation: SQL) throws -> [(name: String, definition: String, constraint: Bool)] {
            try connection.query("""
                SELECT c.relname::text,
                       regexp_replace(pg_get_indexdef(i.indexrelid), '^(CREATE (UNIQUE )?INDEX) .*? ON (ONLY )?.*? USING ', '\\1 ON USING '),
                       EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
                FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                WHERE i.indrelid = to_regclass(\(relation.text)) ORDER BY 2, 1
                """).rows.map { (try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1), try $0.decode(Bool.self, at: 2)) }
        }
        let present = try definitions(destination)
        let declared = try definitions(source).map(\.definition)
        let missing = declared.filter { definition in !present.contains { $0.definition == definition } }
        let schemaName = target.name(table.layer)
        let undeclared = present.filter { !$0.constraint && $0.name != partitionIndexName(table) && !declared.contains($0.definition) }
        for index in undeclared {
            try connection.execute("DROP INDEX \(schema: schemaName, table: index.name)")
            logger.info("publish: \(schemaName).\(table.name) drops index \(index.name), which its model no longer declares")
        }
        for definition in missing {
            try connection.execute(SQL(unsafeSQL: definition.replacingOccurrences(of: " ON USING ", with: " ON \(destination.text) USING ")))
        }
        // An index on an expression is planned by statistics that ANALYZE takes once the index exists.
        if !missing.isEmpty { try connection.execute("ANALYZE \(destination)") }
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

/// A table's partition column: the text each partition is recorded under, and a predicate that
/// selects partitions by their values cast to the column's type, not the column cast to text, so
/// the column's index serves it (a restated day is read by index, not with the whole table) and
/// Citus runs it in a modification (it refuses a stable cast of a column there).
struct PartitionColumn {
    let name: String
    let type: String

    init(_ name: String, of relation: SQL, on connection: Connection) throws {
        self.name = name
        type = try connection.query("""
            SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = \(relation.text)::regclass AND attname = \(name)
            """).scalar()
    }

    /// The partition's recorded text: the value as text, '' for NULL.
    var key: SQL { Self.key(name) }

    /// The recorded text of a row's partition in a table partitioned by `column`; '*' for a table
    /// without one (compared whole).
    static func key(_ column: String?) -> SQL {
        column.map { "coalesce(\(identifier: $0)::text, '')" } ?? "'*'"
    }

    /// The rows of the partitions `parts` (recorded texts; '' selects the NULL partition).
    func selecting(_ parts: [String]) -> SQL {
        return """
            (\(identifier: name) = ANY(array_remove(\(texts: parts), '')::\(SQL(unsafeSQL: type))[])
             OR (\(identifier: name) IS NULL AND '' = ANY(\(texts: parts))))
            """
    }
}
