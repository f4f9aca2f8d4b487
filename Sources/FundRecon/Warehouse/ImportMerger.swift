import Foundation
import Postgres

/// Moves what an import loaded into the run's staging schemas into the warehouse, with the
/// watermarks and file checksums, inside the import's transaction.
struct ImportMerger: Sendable {
    let staging: RunSchemas
    let persistent: RunSchemas
    let prefix: String
    let runID: String

    /// The warehouse's schemas and source tables, when missing. On a Citus coordinator with
    /// workers the fact extracts' ODS tables are distributed on their keys as a run's are
    /// (`Ingest.prepare`): each import's rows go to their shards, and DWD reads them there.
    func createWarehouse(on connection: Connection) throws {
        let present: Int = try connection.query(
            "SELECT count(*) FROM pg_namespace WHERE nspname = ANY(\(texts: persistent.all))"
        ).scalar()
        let tables = try tablesPresent(connection)
        guard present < persistent.all.count || !tables else {
            try createSourceIndexes(on: connection)
            return
        }
        let distribution = try Distribution.detect(on: connection)
        try connection.transaction { connection in
            try connection.execute("SELECT pg_advisory_xact_lock(\(RunSession.lockSpace), hashtext(\(prefix)))")
            for schema in persistent.all { try connection.execute("CREATE SCHEMA IF NOT EXISTS \(identifier: schema)") }
            for statement in Ingest.tableDDL(schemas: persistent, persistent: true) {
                let relation = quoteIdentifier(statement.table.0) + "." + quoteIdentifier(statement.table.1)
                let exists: Bool = try connection.query("SELECT to_regclass(\(relation)) IS NOT NULL").scalar()
                guard !exists else { continue }
                try connection.execute(statement.sql)
                try Ingest.distributeExtract(statement.table, in: persistent, by: distribution, on: connection)
            }
            try createSourceIndexes(on: connection)
        }
    }

    /// The warehouse's ODS tables' lookup columns: incremental models find the rows loaded since
    /// their last build by `_loaded_at`, and every row of a key they recompute by the key.
    static let sourceIndexes: [(table: String, columns: [String])] =
        Sources.extracts.flatMap { extract -> [(String, [String])] in
            let table = "ods_" + extract.table.table
            return [(table, ["_loaded_at"]), (table, [extract.table.columns[0].name])]
        } + [
            ("ods_stripe_balance_transactions", ["_loaded_at"]), ("ods_stripe_balance_transactions", ["balance_transaction_id"]),
            ("ods_stripe_payouts", ["_loaded_at"]),
            ("ods_adyen_settlement_details", ["_loaded_at"]), ("ods_adyen_settlement_details", ["batch_number"]),
            ("ods_reseller_sales", ["_loaded_at"]), ("ods_reseller_sales", ["txn_id"]),
            ("ods_reseller_files", ["_loaded_at"]),
        ]

    /// Lookup indexes of earlier versions that nothing reads any more, dropped from a warehouse that
    /// has them. `ods_commissions` by `order_id` and `refund_id` served `dwd_commissions`' increment
    /// until `dwd_unique_commissions` came between them; a reversal names a days-old order and refund,
    /// so every hour's insert wrote to random pages of both: at 10,000,000 orders a month the hour's
    /// insert of about 2,500 commissions took 287 ms.
    static let retiredSourceIndexes: [(table: String, columns: [String])] =
        [("ods_commissions", ["order_id"]), ("ods_commissions", ["refund_id"])]

    /// The name a source lookup index has, made or retired: `<table>_<columns>_idx`.
    static func sourceIndexName(table: String, columns: [String]) -> String {
        table + "_" + columns.joined(separator: "_") + "_idx"
    }

    /// Creates the lookup indexes that are missing (a warehouse made before they existed gets them
    /// once) and drops the retired ones it still has.
    func createSourceIndexes(on connection: Connection) throws {
        for (table, columns) in ImportMerger.sourceIndexes {
            let name = ImportMerger.sourceIndexName(table: table, columns: columns)
            try connection.createIndexIfMissing(name, schema: persistent.name(.ods), table: table, columns: columns)
        }
        for (table, columns) in ImportMerger.retiredSourceIndexes {
            try connection.dropIndexIfPresent(ImportMerger.sourceIndexName(table: table, columns: columns), schema: persistent.name(.ods))
        }
    }

    func tablesPresent(_ connection: Connection) throws -> Bool {
        let relation = quoteIdentifier(persistent.name(.ods)) + ".\"ods_file_loads\""
        return try connection.query("SELECT to_regclass(\(relation)) IS NOT NULL").scalar()
    }

    /// What this import may load: rows after each extract's watermark and before the period's
    /// end, files due by the end of the period that were not loaded before.
    func window(part: IngestPart, until: Date, filesDueBefore: CalendarDate, on connection: Connection) throws -> LoadWindow {
        var window = LoadWindow(until: until, filesDueBefore: filesDueBefore)
        for row in try connection.query("SELECT source, loaded_until FROM recon_meta.watermarks WHERE schema_prefix = \(prefix)").rows {
            window.from[try row.decode(String.self, at: 0)] = try row.decode(Date.self, at: 1)
        }
        let factFiles = Set(Sources.extracts.filter { Ingest.eventColumns[$0.table.table] != nil }.map { "oltp/" + $0.file })
        for row in try connection.query("""
            SELECT file, sha256, status, stamp FROM recon_meta.loaded_files WHERE schema_prefix = \(prefix) ORDER BY loaded_at
            """).rows {
            let (file, sha, status) = (try row.decode(String.self, at: 0), try row.decode(String.self, at: 1), try row.decode(String.self, at: 2))
            if !factFiles.contains(file) { window.knownFiles[file] = sha }
            if status != FileLoadStatus.duplicate.rawValue, let stamp = try row.decode(String?.self, at: 3).flatMap(FileStamp.init(text:)) {
                window.hashed[file] = (stamp, sha)
            }
            if status != FileLoadStatus.duplicate.rawValue && window.knownContents[sha] == nil { window.knownContents[sha] = file }
        }
        if part == .files {
            for row in try connection.query("SELECT file, stamp, latest_day FROM recon_meta.batch_days WHERE schema_prefix = \(prefix)").rows {
                if let stamp = FileStamp(text: try row.decode(String.self, at: 1)) {
                    window.batchDays[try row.decode(String.self, at: 0)] = (stamp, try row.decode(CalendarDate.self, at: 2))
                }
            }
        }
        if part == .extracts {
            let tables = Dictionary(uniqueKeysWithValues: Sources.extracts.map { ("oltp/" + $0.file, $0.table.table) })
            for row in try connection.query("SELECT file, sha256, blocks FROM recon_meta.extract_indexes WHERE schema_prefix = \(prefix)").rows {
                let (file, sha, blocks) = (try row.decode(String.self, at: 0), try row.decode(String.self, at: 1), try row.decode(String.self, at: 2))
                // An index that does not read (written by another version) is only a lost shortcut: the file is read whole.
                if !blocks.isEmpty {
                    window.extractIndexes[file] = ExtractIndex(sha256: sha, text: blocks)
                    continue
                }
                // Stored by hour: only the hours of the table's window are read.
                let event = tables[file].map { window.from[$0] } ?? nil
                guard let hours = ExtractIndex.hours(from: event, until: until) else {
                    window.extractIndexes[file] = ExtractIndex(sha256: sha)
                    continue
                }
                let rows = try connection.query("""
                    SELECT hour, blocks FROM recon_meta.extract_index_hours
                    WHERE schema_prefix = \(prefix) AND file = \(file)
                      AND hour >= \(max(hours.lowerBound, Int(Int32.min))) AND hour <= \(min(hours.upperBound, Int(Int32.max)))
                    """).rows.map { (try $0.decode(Int.self, at: 0), try $0.decode(String.self, at: 1)) }
                window.extractIndexes[file] = ExtractIndex(sha256: sha, hourRows: rows)
            }
        }
        for row in try connection.query("""
            SELECT file, line FROM \(schema: persistent.name(.ods), table: "ods_rejects") WHERE \(ImportMerger.sources(of: part))
            """).rows {
            window.rejectedLines[try row.decode(String.self, at: 0), default: []].insert(try row.decode(Int.self, at: 1))
        }
        return window
    }

    /// The rows of `ods_rejects` and `ods_file_loads` that one import part writes.
    static func sources(of part: IngestPart) -> SQL {
        part == .extracts ? "source = 'oltp'" : "source <> 'oltp'"
    }

    /// Appends the new rows, replaces reference data and changed files, and records watermarks and checksums.
    func merge(part: IngestPart, report: LoadReport, until: Date, on connection: Connection) throws {
        let (sOLTP, sODS, pOLTP, pODS) = (staging.name(.oltp), staging.name(.ods), persistent.name(.oltp), persistent.name(.ods))
        func copy(_ fromSchema: String, _ toSchema: String, _ table: String, replace: Bool = false) throws {
            if replace { try connection.execute("DELETE FROM \(schema: toSchema, table: table)") }
            try connection.execute("INSERT INTO \(schema: toSchema, table: table) SELECT * FROM \(schema: fromSchema, table: table)")
        }
        var touched: [(String, String)] = [(pODS, "ods_rejects"), (pODS, "ods_file_loads")]
        // Rows leaving the sources (a reference extract's new version, a changed file's rows)
        // cannot be taken back by an incremental model's batch: they are built whole next.
        var rowsLeft = false
        switch part {
        case .extracts:
            for (file, table) in Sources.extracts {
                let name = table.table
                if Ingest.eventColumns[name] != nil {
                    try copy(sOLTP, pOLTP, name)
                    try copy(sODS, pODS, "ods_" + name)
                } else if report.files.contains(where: { $0.file == "oltp/" + file && $0.status == .loaded }) {
                    // Reference data: the extract is the whole table, so a new version replaces it.
                    try copy(sOLTP, pOLTP, name, replace: true)
                    try copy(sODS, pODS, "ods_" + name, replace: true)
                    rowsLeft = true
                }
                touched += [(pOLTP, name), (pODS, "ods_" + name)]
            }
            for source in Ingest.eventColumns.keys.sorted() {
                try connection.execute("""
                    INSERT INTO recon_meta.watermarks (schema_prefix, source, loaded_until, run_id)
                    VALUES (\(prefix), \(source), \(until), \(runID))
                    ON CONFLICT (schema_prefix, source) DO UPDATE
                      SET loaded_until = greatest(recon_meta.watermarks.loaded_until, excluded.loaded_until), run_id = excluded.run_id
                    """)
            }
        case .files:
            for file in report.reloaded {
                rowsLeft = true
                for table in Sources.fileTables {
                    try connection.execute("DELETE FROM \(schema: pODS, table: table.table) WHERE _source_file = \(file)")
                }
                try connection.execute("DELETE FROM \(schema: pODS, table: "ods_rejects") WHERE file = \(file)")
                try connection.execute("DELETE FROM \(schema: pODS, table: "ods_file_loads") WHERE file = \(file)")
            }
            for table in Sources.fileTables {
                try copy(sODS, pODS, table.table)
                touched.append((pODS, table.table))
            }
        }
        if rowsLeft { try IncrementalState(prefix: prefix).advanceEpoch(runID: runID, on: connection) }
        let ours = ImportMerger.sources(of: part)
        let (sRejects, pRejects): (SQL, SQL) = ("\(schema: sODS, table: "ods_rejects")", "\(schema: pODS, table: "ods_rejects")")
        let (sLoads, pLoads): (SQL, SQL) = ("\(schema: sODS, table: "ods_file_loads")", "\(schema: pODS, table: "ods_file_loads")")
        try connection.execute("INSERT INTO \(pRejects) SELECT * FROM \(sRejects) WHERE \(ours)")
        // A missing extract is recorded once, not at every run that finds it still missing; an
        // extract with no rows in this run's window is a quiet hour, not an empty extract.
        try connection.execute("""
            INSERT INTO \(pLoads) SELECT * FROM \(sLoads) s WHERE \(ours)
              AND NOT (s.status = 'missing' AND EXISTS (SELECT 1 FROM \(pLoads) p WHERE p.file = s.file AND p.status = 'missing'))
              AND NOT (s.source = 'oltp' AND s.status = 'loaded' AND s.rows_read = 0)
            """)
        for file in report.files where file.status != .missing {
            try connection.execute("""
                INSERT INTO recon_meta.loaded_files (schema_prefix, file, sha256, status, rows_loaded, run_id, stamp)
                VALUES (\(prefix), \(file.file), \(file.sha256), \(file.status.rawValue), \(file.rowsLoaded), \(runID),
                        \(report.stamps[file.file]?.text))
                ON CONFLICT (schema_prefix, file) DO UPDATE
                  SET sha256 = excluded.sha256, status = excluded.status, rows_loaded = excluded.rows_loaded,
                      run_id = excluded.run_id, loaded_at = now(), stamp = excluded.stamp
                """)
        }
        for (file, sha) in report.unchanged.sorted(by: { $0.key < $1.key }) {
            guard let stamp = report.stamps[file] else { continue }
            try connection.execute("""
                UPDATE recon_meta.loaded_files SET stamp = \(stamp.text)
                WHERE schema_prefix = \(prefix) AND file = \(file) AND sha256 = \(sha)
                """)
        }
        for (file, batch) in report.batchDays.sorted(by: { $0.key < $1.key }) {
            try connection.execute("""
                INSERT INTO recon_meta.batch_days (schema_prefix, file, stamp, latest_day)
                VALUES (\(prefix), \(file), \(batch.stamp.text), \(batch.day))
                ON CONFLICT (schema_prefix, file) DO UPDATE SET stamp = excluded.stamp, latest_day = excluded.latest_day
                """)
        }
        for (file, index) in report.extractIndexes.sorted(by: { $0.key < $1.key }) {
            // By hour (`blocks` left empty): a run reads the rows of its window's hours.
            try connection.execute("""
                INSERT INTO recon_meta.extract_indexes (schema_prefix, file, sha256, blocks, run_id)
                VALUES (\(prefix), \(file), \(index.sha256), '', \(runID))
                ON CONFLICT (schema_prefix, file) DO UPDATE
                  SET sha256 = excluded.sha256, blocks = excluded.blocks, run_id = excluded.run_id, indexed_at = now()
                """)
            try connection.execute("DELETE FROM recon_meta.extract_index_hours WHERE schema_prefix = \(prefix) AND file = \(file)")
            // A hundred hours a statement, their texts made as they are sent (a month's are tens of MB).
            let byHour = index.blocksByHour
            let hours = byHour.keys.sorted()
            for start in stride(from: 0, to: hours.count, by: 100) {
                let values: [SQL] = hours[start..<min(start + 100, hours.count)].map { hour in
                    "(\(prefix), \(file), \(hour), \(index.text(of: byHour[hour]!)))"
                }
                try connection.execute("""
                    INSERT INTO recon_meta.extract_index_hours (schema_prefix, file, hour, blocks) VALUES \(values.joined(separator: ", "))
                    """)
            }
        }
        // Statistics are taken again where the import grew a table by a tenth or more (as
        // autovacuum's analyze would): an hour's rows in a month's table leave them good (the
        // planner probes an index for values past the histogram), and ANALYZE of each large source
        // table cost 0.15-0.2 s of every hourly run at 1,000,000 orders a month.
        for (schema, table) in touched {
            let relation = quoteIdentifier(schema) + "." + quoteIdentifier(table)
            let stale: Bool = try connection.query("""
                SELECT c.reltuples < 1000 OR coalesce(s.n_mod_since_analyze, 0) >= 0.1 * c.reltuples
                FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.oid = to_regclass(\(relation))
                """).scalar(Bool?.self) ?? true
            guard stale else { continue }
            try connection.execute("ANALYZE \(schema: schema, table: table)")
        }
        // The part's staging rows are not read again in the run (models read the warehouse's
        // sources): emptied at this commit rather than when the run ends, so a first import's rows
        // are not on disk twice while the build runs. In staging an extract's rows are its `ods_`
        // table (`oltp` has views of them); the rejects and file loads, which both parts write side
        // by side, stay.
        let copied: [SQL] = part == .extracts
            ? Sources.extracts.map { "\(schema: sODS, table: "ods_" + $0.table.table)" }
            : Sources.fileTables.map { "\(schema: sODS, table: $0.table)" }
        try connection.execute("TRUNCATE \(copied.joined(separator: ", "))")
    }
}
