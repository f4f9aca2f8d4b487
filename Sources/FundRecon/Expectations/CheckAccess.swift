import Foundation
import Postgres

/// What the checks of a file may read: the schemas a reader role is granted, and the search_path
/// their unqualified names follow.
///
/// A run's checks read the run's schemas, and `recon_meta` (the run history) when the file names
/// it; nothing else, whatever the file names. Without a run (`recon check` of tables as written)
/// they read the schemas the file names: the schema of a qualified `table`, any `schema.name` in
/// the authors' SQL (`query`, `where`, `expression`) that exists and is not a system schema, and
/// the connecting role's search_path, where unqualified tables are found.
public struct CheckAccess: Sendable, Equatable {
    /// The schemas to grant USAGE on and SELECT on the tables of.
    public var schemas: [String]
    /// The search_path of the checks when no run's schemas give one (quoted, comma-separated).
    public var searchPath: String?

    /// Reads the schemas named by `file` that exist on the server of `connection` (a connection
    /// of the connecting role), with the run's `runSchemas` when there is a run.
    public static func of(_ file: ExpectationsFile, runSchemas: [String]?, on connection: Connection) throws -> CheckAccess {
        var named = Set(qualifiers(in: file.text))
        if runSchemas != nil { named.formIntersection([RunHistory.schema]) }
        var searchPath: String?
        if runSchemas == nil {
            let row = try connection.query("""
                SELECT coalesce(string_agg(quote_ident(s), ', ' ORDER BY o), ''), coalesce(string_agg(s, ',' ORDER BY o), '')
                FROM unnest(current_schemas(false)) WITH ORDINALITY AS p(s, o)
                """).first
            searchPath = row?.text(at: 0)
            for schema in (row?.text(at: 1) ?? "").split(separator: ",") { named.insert(String(schema)) }
        }
        let existing = try connection.query("""
            SELECT nspname FROM pg_namespace
            WHERE nspname = ANY(\(texts: named.sorted()))
              AND nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
            ORDER BY 1
            """).rows.map { try $0.decode(String.self, at: 0) }
        let schemas = (runSchemas ?? []) + existing.filter { !(runSchemas ?? []).contains($0) }
        return CheckAccess(schemas: schemas, searchPath: searchPath.flatMap { $0.isEmpty ? nil : $0 })
    }

    /// The words the text puts before a dot (`public` in `public.orders`, `s` in `"s".t`), as
    /// PostgreSQL folds them: candidates, kept only when such a schema exists.
    static func qualifiers(in text: String) -> [String] {
        let pattern = #"("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)\s*\.\s*(?:"|[A-Za-z_])"#
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return [] }
        let range = NSRange(text.startIndex..., in: text)
        return regex.matches(in: text, range: range).compactMap { match in
            guard let found = Range(match.range(at: 1), in: text) else { return nil }
            let word = String(text[found])
            if word.hasPrefix("\"") { return String(word.dropFirst().dropLast()).replacingOccurrences(of: "\"\"", with: "\"") }
            return word.lowercased()
        }
    }
}
