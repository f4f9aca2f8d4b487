import Foundation
import Postgres

/// A table's rows as normalised CSV: every column as PostgreSQL prints it in UTC, rows sorted by
/// every column, so ordering and session settings never cause a difference.
public struct TableSnapshot: Sendable, Equatable {
    public var table: String
    public var header: [String]
    public var rows: [[String]]

    /// Reads a table of a run, timestamps in UTC (local to the read, not the session); `parse` sorts.
    /// Load times (`_loaded_at`, when the run's sources were loaded) are left out: they are lineage,
    /// not output, and differ between any two runs.
    static func read(table: String, schema: String, connection: Connection) throws -> TableSnapshot {
        var text = ""
        let columns = try connection.query("""
            SELECT a.attname FROM pg_attribute a
            WHERE a.attrelid = to_regclass(\(quoteIdentifier(schema) + "." + quoteIdentifier(table)))
              AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> '_loaded_at' ORDER BY a.attnum
            """).rows.map { "\(identifier: try $0.decode(String.self, at: 0))" as SQL }
        let statement: SQL = "COPY (SELECT \(columns.joined(separator: ", ")) FROM \(schema: schema, table: table)) TO STDOUT WITH (FORMAT csv, HEADER)"
        try connection.transaction(readOnly: true) { connection in
            try connection.execute("SELECT set_config('timezone', 'UTC', true)")
            try connection.copyOut(statement) { chunk in text += String(decoding: chunk, as: UTF8.self) }
        }
        return try parse(csv: text, table: table)
    }

    /// Parses a snapshot written by `csv`.
    static func parse(csv text: String, table: String) throws -> TableSnapshot {
        let path = TemporaryFiles.path(.snapshot)
        defer { TemporaryFiles.remove(path) }
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let reader = try CSVReader(path: path)
        var record = CSVRecord()
        var header: [String] = []
        var rows: [[String]] = []
        if try reader.next(into: &record) { header = (0..<record.count).map { record.string($0) } }
        while try reader.next(into: &record) {
            if let problem = record.framingProblem { throw InputError(file: table, line: record.line, message: problem) }
            rows.append((0..<record.count).map { record.string($0) })
        }
        rows.sort { $0.lexicographicallyPrecedes($1) }
        return TableSnapshot(table: table, header: header, rows: rows)
    }

    /// RFC 4180 text, sorted: what golden/<name>/expected/<table>.csv holds.
    public var csv: String {
        func quote(_ field: String) -> String {
            field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
        }
        return ([header] + rows).map { $0.map(quote).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }
}
