import Foundation
import Postgres

/// An increment's watermark, `(select coalesce(max(_loaded_at), '-infinity'::timestamptz) from T)`
/// (the `last_loaded()` macro), is one value for the whole statement. Left a subquery, the planner
/// cannot know it and guesses that a third of every table lies past it, so it scans them whole
/// where a few index lookups would do. FundRecon computes each watermark first and puts its value
/// in the statement: the same rows, planned for what they are. (dbt runs the subquery as written.)
enum Watermarks {
    static let pattern = try! NSRegularExpression(
        pattern: #"\(\s*select\s+coalesce\(max\(_loaded_at\),\s*'-infinity'::timestamptz\)\s+from\s+("[^"]+"\."[^"]+")\s*\)"#,
        options: [.caseInsensitive])

    /// `sql` with every watermark subquery replaced by its value.
    static func inlined(in sql: String, on connection: Connection) throws -> String {
        let range = NSRange(sql.startIndex..., in: sql)
        var values: [String: String] = [:]
        for match in pattern.matches(in: sql, range: range) {
            guard let relation = Range(match.range(at: 1), in: sql).map({ String(sql[$0]) }), values[relation] == nil else { continue }
            let value: String = try connection.query(SQL(unsafeSQL:
                "SELECT coalesce(max(_loaded_at), '-infinity'::timestamptz)::text FROM \(relation)")).scalar()
            values[relation] = "'" + value.replacingOccurrences(of: "'", with: "''") + "'::timestamptz"
        }
        guard !values.isEmpty else { return sql }
        var result = ""
        var last = sql.startIndex
        for match in pattern.matches(in: sql, range: range) {
            guard let whole = Range(match.range, in: sql), let relation = Range(match.range(at: 1), in: sql) else { continue }
            result += sql[last..<whole.lowerBound] + (values[String(sql[relation])] ?? String(sql[whole]))
            last = whole.upperBound
        }
        return result + sql[last...]
    }
}
