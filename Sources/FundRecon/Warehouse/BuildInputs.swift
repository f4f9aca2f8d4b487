import Foundation
import Postgres

/// What a build task reads, summed up: every source table's row count and latest load time, the
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
    static func fingerprint(persistent: RunSchemas, pipeline: String, vars: [String: String], on connection: Connection) throws -> String {
        let tables = Ingest.tableDDL(schemas: persistent, persistent: true).map { $0.table }
        let parts = tables.map { schema, table in
            "SELECT count(*)::text || '@' || coalesce(max(_loaded_at)::text, '') FROM \(schema: schema, table: table)" as SQL
        }
        let counts = try connection.query(parts.joined(separator: " UNION ALL ")).rows.map { try $0.decode(String.self, at: 0) }
        var hash = SHA256()
        hash.update(Array((pipeline + "|" + vars.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            + "|" + counts.joined(separator: ",")).utf8))
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
