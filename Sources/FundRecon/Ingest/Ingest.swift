import Foundation
import Logging
import Postgres

/// Loads a dataset directory (DATA_CONTRACT.md section 1) into a run's `oltp` and `ods` schemas.
///
/// Every file is parsed, checked and loaded by COPY straight into its `ods_*` table; the `oltp`
/// schema shows each extract as a view of its ODS table (the rows as the platform sent them,
/// with their lineage), so no extract is copied twice. Every row carries
/// `_source_file`, `_source_line` and `_loaded_at`; a record that cannot be parsed goes to
/// `ods_rejects` with its file, line, raw text and reason while the rest of the file loads; each
/// file's counts go to `ods_file_loads`, and a file whose SHA-256 was loaded before is skipped.
public enum Ingest {
    /// The event-time column of each OLTP fact extract: the watermark of incremental loads. The
    /// other extracts (merchants, resellers, vouchers) are reference data, replaced when their
    /// file changes.
    public static let eventColumns: [String: String] = Dictionary(uniqueKeysWithValues: Sources.extracts.compactMap { extract in
        extract.table.eventColumn.map { (extract.table.table, $0) }
    })

    /// Loads everything; throws `InputError` (exit 2) for a file that cannot be read as its kind
    /// at all, such as an extract missing a required column.
    public static func load(
        dataset directory: String, schemas: RunSchemas, connection: Connection, logger: Logger
    ) throws -> LoadReport {
        try prepare(schemas: schemas, connection: connection)
        var report = try load(dataset: directory, part: .extracts, schemas: schemas, connection: connection, logger: logger)
        let files = try load(dataset: directory, part: .files, schemas: schemas, connection: connection, logger: logger)
        report.files += files.files
        report.ignored += files.ignored
        return report
    }

    /// Creates the source tables, `ods_rejects` and `ods_file_loads` (before either part loads).
    /// With `distribute`, on a Citus coordinator with workers, each fact extract's table is
    /// distributed on its key as it is created (COPY then routes its rows to the shards).
    public static func prepare(schemas: RunSchemas, connection: Connection, distribute: Bool = false) throws {
        let distribution = distribute ? try Distribution.detect(on: connection) : Distribution(workers: 0)
        try connection.transaction { connection in
            for statement in tableDDL(schemas: schemas) {
                try connection.execute(statement.sql)
                try distributeExtract(statement.table, in: schemas, by: distribution, on: connection)
            }
        }
    }

    /// The column each fact extract's ODS table is distributed on, on Citus: its own key, so that
    /// DWD's de-duplication over the key runs on the workers.
    private static let distributionKeys = Dictionary(uniqueKeysWithValues: Sources.extracts.compactMap { extract in
        extract.table.key.map { ("ods_" + extract.table.table, $0) }
    })

    /// Distributes `table` (`schema`, `name`, just created and empty) on its key when it is a fact
    /// extract's ODS table of `schemas` and `distribution` has workers; nothing otherwise.
    static func distributeExtract(_ table: (String, String), in schemas: RunSchemas, by distribution: Distribution,
                                  on connection: Connection) throws {
        guard distribution.isDistributed, table.0 == schemas.name(.ods), let key = distributionKeys[table.1] else { return }
        try distribution.distribute(table.1, on: key, schema: table.0, on: connection)
    }

    /// Makes the source tables of `schemas` views of those `other` loaded: a second build of the
    /// same sources reads them without loading them again.
    public static func share(from other: RunSchemas, schemas: RunSchemas, connection: Connection) throws {
        try connection.transaction { connection in
            for (relation, _) in tableDDL(schemas: other) {
                guard let layer = Layer.allCases.first(where: { other.name($0) == relation.0 }) else { continue }
                try connection.execute(
                    "CREATE VIEW \(schema: schemas.name(layer), table: relation.1) AS SELECT * FROM \(schema: relation.0, table: relation.1)")
            }
        }
    }

    /// The DDL of every table ingest fills, with the relation it creates (`schema.table`, unquoted).
    /// A run's extracts load into their `ods_` tables and `oltp` has views of them; a persistent
    /// warehouse (`persistent`) keeps both as tables, as it always has: its imports append the
    /// hour's rows to each.
    static func tableDDL(schemas: RunSchemas, persistent: Bool = false) -> [(table: (String, String), sql: SQL)] {
        let ods = schemas.name(.ods)
        let oltp = schemas.name(.oltp)
        var statements: [(table: (String, String), sql: SQL)]
        if persistent {
            statements = Sources.extracts.map { ((oltp, $0.table.table), $0.table.createSQL(schema: oltp)) }
            statements += Sources.extracts.map {
                ((ods, "ods_" + $0.table.table),
                 "CREATE TABLE \(schema: ods, table: "ods_" + $0.table.table) (LIKE \(schema: oltp, table: $0.table.table) INCLUDING DEFAULTS)")
            }
        } else {
            statements = Sources.extracts.map { ((ods, "ods_" + $0.table.table), $0.table.createSQL(schema: ods, as: "ods_" + $0.table.table)) }
            statements += Sources.extracts.map {
                ((oltp, $0.table.table),
                 "CREATE VIEW \(schema: oltp, table: $0.table.table) AS SELECT * FROM \(schema: ods, table: "ods_" + $0.table.table)")
            }
        }
        statements += Sources.fileTables.map { ((ods, $0.table), $0.createSQL(schema: ods)) }
        statements.append(((ods, "ods_rejects"), """
            CREATE TABLE \(schema: ods, table: "ods_rejects") (
              source text NOT NULL, file text NOT NULL, line integer NOT NULL, raw_record text NOT NULL,
              reason text NOT NULL, _loaded_at timestamptz NOT NULL DEFAULT now())
            """))
        statements.append(((ods, "ods_file_loads"), """
            CREATE TABLE \(schema: ods, table: "ods_file_loads") (
              source text NOT NULL, file text NOT NULL, sha256 text NOT NULL, rows_read integer NOT NULL,
              rows_loaded integer NOT NULL, rows_rejected integer NOT NULL, status text NOT NULL,
              duplicate_of text, _loaded_at timestamptz NOT NULL DEFAULT now())
            """))
        return statements
    }

    /// Loads one part into tables `prepare` made; with a window, only what it lets through. Event
    /// times outside the plausible window (`EventWindow`, from `vars` and the dataset) are rejects.
    public static func load(
        dataset directory: String, part: IngestPart, schemas: RunSchemas, connection: Connection, logger: Logger,
        window: LoadWindow? = nil, vars: [String: String] = [:]
    ) throws -> LoadReport {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory + "/oltp", isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw InputError(file: directory, message: "not a dataset directory: it has no oltp/ folder (see DATA_CONTRACT.md)")
        }
        let events = try EventWindow.plausible(for: directory, vars: vars)
        let loader = Loader(directory: directory, schemas: schemas, connection: connection, logger: logger, window: window,
                            events: events)
        switch part {
        case .extracts: return try loader.runExtracts()
        case .files: return try loader.runFiles()
        }
    }
}
