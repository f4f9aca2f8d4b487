import Foundation
import Postgres

/// What a build task reads, summed up: every ODS table's latest load time and the sources' epoch, the
/// pipeline folder's content and the vars. When it equals the last build's, building again would
/// publish nothing: the task says so and skips (a replayed period, a quiet hour).
struct BuildInputs: Sendable {
    let prefix: String
    let task: TaskID
    let persistent: RunSchemas

    /// SHA-256 over every file of the pipeline folder (models, seeds, project), by path.
    static func digest(ofDirectory directory: String) throws -> String {
        var hash = SHA256()
        let files = (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? []).sorted()
        for file in files where !file.hasPrefix(".") && !file.contains("/.") && !file.hasPrefix("target") {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory + "/" + file, isDirectory: &isDirectory), !isDirectory.boolValue
            else { continue }
            hash.update(Array((file + "=" + (try SHA256.digest(ofFile: directory + "/" + file).hex) + "\n").utf8))
        }
        return hash.finalize()
    }

    /// The same for every build task of a run: the imports, which change it, come before them.
    ///
    /// A source table gains rows only through an import, which stamps them with its own
    /// `_loaded_at`, later than any before; rows leave it only when an import replaces reference
    /// data or a changed file, which advances the sources' epoch. So the latest `_loaded_at` of
    /// each ODS table (the build reads no other) and the epoch change whenever what the build
    /// reads does: read through the `_loaded_at` indexes, never by counting the tables (a count
    /// over every source table took 4-5 s of each hourly run at 10,000,000 orders a month).
    static func fingerprint(persistent: RunSchemas, epoch: Int, pipeline: String, vars: [String: String], on connection: Connection) throws -> String {
        let ods = persistent.name(.ods)
        let tables = Ingest.tableDDL(schemas: persistent, persistent: true).map { $0.table }.filter { $0.0 == ods }
        let parts = tables.map { schema, table in
            "SELECT coalesce((SELECT max(_loaded_at) FROM \(schema: schema, table: table))::text, '')" as SQL
        }
        let latest = try connection.query(parts.joined(separator: " UNION ALL ")).rows.map { try $0.decode(String.self, at: 0) }
        var hash = SHA256()
        hash.update(Array((pipeline + "|" + vars.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            + "|" + latest.joined(separator: ",") + "|epoch " + String(epoch)).utf8))
        return hash.finalize()
    }

    /// The run that last built from exactly these inputs, when every table it published still exists.
    func lastBuild(matching fingerprint: String, tables: [Publisher.Table], on connection: Connection) throws -> String? {
        guard let run = try connection.query("""
            SELECT run_id FROM recon_meta.build_inputs WHERE schema_prefix = \(prefix) AND task = \(task.rawValue) AND fingerprint = \(fingerprint)
            """).first.map({ try $0.decode(String.self, at: 0) }) else { return nil }
        for table in tables {
            let relation = quoteIdentifier(persistent.name(table.layer)) + "." + quoteIdentifier(table.name)
            let exists: Bool = try connection.query("SELECT to_regclass(\(relation)) IS NOT NULL").scalar()
            if !exists { return nil }
        }
        return run
    }

    func record(_ fingerprint: String, runID: String, on connection: Connection) throws {
        try connection.execute("""
            INSERT INTO recon_meta.build_inputs (schema_prefix, task, fingerprint, run_id) VALUES (\(prefix), \(task.rawValue), \(fingerprint), \(runID))
            ON CONFLICT (schema_prefix, task) DO UPDATE SET fingerprint = excluded.fingerprint, run_id = excluded.run_id, built_at = now()
            """)
    }
}
